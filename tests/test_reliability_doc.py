"""docs/reliability.md names, for each promise, the tests that check it: every one must exist."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def test_every_test_the_reliability_page_names_exists():
    named = NAMED.findall(DOC.read_text())
    assert len(named) >= 30, "the page names the tests of each promise"
    missing = []
    for file, name in named:
        path = ROOT / file
        tree = ast.parse(path.read_text()) if path.is_file() else None
        functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)} if tree else set()
        if name not in functions:
            missing.append(f"{file}::{name}")
    assert not missing, missing


def test_every_promise_has_tests():
    sections = re.split(r"^## ", DOC.read_text(), flags=re.MULTILINE)[1:]
    assert len(sections) >= 6
    for section in sections:
        assert NAMED.search(section), f"no test named under: {section.splitlines()[0]}"
