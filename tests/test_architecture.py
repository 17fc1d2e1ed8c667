"""The structure docs/architecture.md describes stays true: read from the files, never imported.

Pure `ast` and filesystem checks (nothing of regen_bench is imported), so they run in
well under a second and fail with the file, line and rule that broke. That the core imports
no plugin, and no plugin another plugin, is checked in test_plugin_independence.py.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "regen_bench"
PLUGINS = ROOT / "plugins"
DOC = ROOT / "docs" / "architecture.md"

# The core's packages, lowest first. A module may import its own package or one to its
# left, never one to its right. docs/architecture.md writes the same line.
LAYERS = ("util", "contracts", "plugin", "data", "stats", "results", "pipeline", "leaderboard", "api", "cli")
# regen_bench/__init__.py re-exports the plugin author's surface (contracts + hookimpl):
# it imports these, and only packages to the right of the last one may import it.
PUBLIC_SURFACE = "regen_bench"
PUBLIC_SURFACE_IMPORTS = ("contracts", "plugin")

MAX_FUNCTION_LINES = 80
MAX_MODULES_PER_FOLDER = 12

SKIPPED_DIRS = {"__pycache__", "build"}


def python_files(root: Path) -> list[Path]:
    return sorted(
        path for path in root.rglob("*.py")
        if not SKIPPED_DIRS & set(path.relative_to(root).parts) and ".egg-info" not in str(path)
    )


def package_dirs(root: Path) -> list[Path]:
    return sorted(init.parent for init in python_files(root) if init.name == "__init__.py")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def dotted_name(path: Path, root: Path, import_root: str) -> str:
    parts = [import_root, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(tree: ast.Module, module: str, is_package: bool):
    """(line, imported dotted name, inside a function?) of every import in a module.

    `from a.b import c` yields `a.b.c` (c may be a module or a name in a.b); relative
    imports are resolved against `module`.
    """
    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield child.lineno, alias.name, in_function
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    package = module.split(".") if is_package else module.split(".")[:-1]
                    anchor = package[: len(package) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    yield child.lineno, f"{base}.{alias.name}", in_function
            yield from visit(child, nested)

    yield from visit(tree, False)


def core_modules():
    for path in python_files(CORE):
        yield path, dotted_name(path, CORE, "regen_bench"), ast.parse(path.read_text(encoding="utf-8"))


def layer_of(dotted: str) -> str | None:
    """The core package a dotted name lives in; PUBLIC_SURFACE for regen_bench itself."""
    parts = dotted.split(".")
    if parts[0] != "regen_bench":
        return None
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return PUBLIC_SURFACE


def may_import(importer: str, target: str) -> bool:
    if importer == PUBLIC_SURFACE:
        return target in PUBLIC_SURFACE_IMPORTS
    if target == PUBLIC_SURFACE:
        return LAYERS.index(importer) > max(LAYERS.index(p) for p in PUBLIC_SURFACE_IMPORTS)
    return LAYERS.index(target) <= LAYERS.index(importer)


# -- the page names every folder ------------------------------------------------------


def test_architecture_page_names_every_package_folder():
    doc = DOC.read_text(encoding="utf-8")
    folders = [rel(d) + "/" for d in package_dirs(CORE) + package_dirs(PLUGINS)]
    missing = [folder for folder in folders if f"`{folder}`" not in doc]
    assert missing == [], f"docs/architecture.md does not name these package folders: {missing}"


def test_architecture_page_names_only_folders_that_exist():
    doc = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:regen_bench|plugins)/[\w/]*/)`", doc))
    gone = sorted(folder for folder in named if not (ROOT / folder).is_dir())
    assert gone == [], f"docs/architecture.md names folders that do not exist: {gone}"


def test_architecture_page_states_the_layering_of_this_test():
    doc = DOC.read_text(encoding="utf-8")
    assert " -> ".join(LAYERS) in doc


def test_every_core_folder_is_a_layer():
    folders = {d.name for d in package_dirs(CORE) if d.parent == CORE}
    assert folders == set(LAYERS), "add the new folder to LAYERS here and to docs/architecture.md"


# -- imports flow one way --------------------------------------------------------------


def test_core_imports_flow_one_way():
    wrong = []
    for path, module, tree in core_modules():
        importer = layer_of(module)
        for line, target, _in_function in imports(tree, module, path.name == "__init__.py"):
            target_layer = layer_of(target)
            if target_layer is not None and not may_import(importer, target_layer):
                wrong.append(f"{rel(path)}:{line}: {importer} imports {target} ({target_layer})")
    assert wrong == [], "imports against the layering " + " -> ".join(LAYERS) + ":\n" + "\n".join(wrong)


def test_core_imports_of_core_modules_are_at_module_level():
    """A function-level import only defers a heavy third-party library, and no regen_bench
    module imports one at module level, so no regen_bench module needs deferring."""
    found = []
    for path, module, tree in core_modules():
        for line, target, in_function in imports(tree, module, path.name == "__init__.py"):
            if in_function and layer_of(target) is not None:
                found.append(f"{rel(path)}:{line}: {target}")
    assert found == [], "import these at the top of the module:\n" + "\n".join(found)


# -- sizes a newcomer can read ---------------------------------------------------------


def function_lengths():
    for path in python_files(CORE):
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def visit(node, prefix):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    name = f"{prefix}{child.name}"
                    if not isinstance(child, ast.ClassDef):
                        yield f"{rel(path)}:{name}", child.end_lineno - child.lineno + 1
                    yield from visit(child, name + ".")
                else:
                    yield from visit(child, prefix)

        yield from visit(tree, "")


def test_no_core_function_reaches_80_lines():
    long = {name: lines for name, lines in function_lengths() if lines >= MAX_FUNCTION_LINES}
    assert long == {}, f"split these functions (under {MAX_FUNCTION_LINES} lines, aim for 60): {long}"


def test_no_core_folder_holds_more_than_12_modules():
    crowded = {rel(d): n for d in package_dirs(CORE) if (n := len(list(d.glob("*.py")))) > MAX_MODULES_PER_FOLDER}
    assert crowded == {}, "split these folders by concern"


def test_the_layering_check_catches_a_backward_import():
    """The rule itself: a check that could never fail would keep nothing true."""
    assert may_import("results", "data") and may_import("cli", "pipeline") and may_import("data", "data")
    assert not may_import("data", "results") and not may_import("util", "contracts")
    assert may_import(PUBLIC_SURFACE, "contracts") and not may_import(PUBLIC_SURFACE, "data")
    assert may_import("pipeline", PUBLIC_SURFACE) and not may_import("contracts", PUBLIC_SURFACE)
    tree = ast.parse("from ..results import schema\ndef f():\n    from regen_bench.cli import app\n")
    found = list(imports(tree, "regen_bench.data.loading", False))
    assert found == [(1, "regen_bench.results.schema", False), (3, "regen_bench.cli.app", True)]
