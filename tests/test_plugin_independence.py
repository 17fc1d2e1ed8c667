"""No plugin reaches into another plugin, and the core reaches into none.

A plugin is its entry-point module (pyproject.toml [project.entry-points.regen_bench]) and,
for a package plugin such as `fusion`, every module inside that package. Code that several
plugins share lives in helper packages (api_client, providers, encoders, prompting), which
any plugin may import. Every import statement counts, at module level or inside a function.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGINS_DIR, PLUGINS_PACKAGE = ROOT / "plugins", "regen_bench_plugins"
CORE_DIR, CORE_PACKAGE = ROOT / "regen_bench", "regen_bench"


def entry_point_modules() -> dict[str, str]:
    """Plugin name -> its entry-point module."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(pyproject["project"]["entry-points"]["regen_bench"])


def modules(folder: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under `folder` (the package `package`)."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        parts = list(path.relative_to(folder).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join([package, *parts])] = path
    return found


def imports(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, module) for every module an import statement of the file may load: for
    `from a.b import c`, both `a.b` and `a.b.c` (c may be a submodule)."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: `from . import x` in package a.b is a.b.x
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def owner(module: str, entry_points: dict[str, str]) -> str | None:
    """The plugin that `module` belongs to: its entry-point module, or a module inside it."""
    for name, entry in entry_points.items():
        if module == entry or module.startswith(entry + "."):
            return name
    return None


def test_every_entry_point_module_is_a_file_under_plugins():
    plugin_modules = modules(PLUGINS_DIR, PLUGINS_PACKAGE)
    missing = {name: entry for name, entry in entry_point_modules().items() if entry not in plugin_modules}
    assert not missing, f"entry points naming no module under plugins/: {missing}"


def test_no_plugin_module_imports_another_plugins_module():
    entry_points = entry_point_modules()
    problems = []
    for module, path in modules(PLUGINS_DIR, PLUGINS_PACKAGE).items():
        mine = owner(module, entry_points)
        for line, target in imports(module, path):
            theirs = owner(target, entry_points)
            if theirs is not None and theirs != mine:
                problems.append(
                    f"{path.relative_to(ROOT)}:{line} imports {target}, which belongs to the plugin {theirs!r}; "
                    "move what both need into a helper package (api_client, providers, encoders, prompting)"
                )
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_core_imports_no_plugin():
    problems = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for module, path in modules(CORE_DIR, CORE_PACKAGE).items()
        for line, target in imports(module, path)
        if target == PLUGINS_PACKAGE or target.startswith(PLUGINS_PACKAGE + ".")
    ]
    assert not problems, "the core (regen_bench/) must not import regen_bench_plugins:\n" + "\n".join(problems)


def test_the_scan_sees_imports_between_plugins(tmp_path):
    # The check above passes vacuously if the scan misses imports; show it catches each form.
    folder = tmp_path / "plugins"
    (folder / "models" / "fusion").mkdir(parents=True)
    (folder / "models" / "fusion" / "__init__.py").write_text("from . import analysis\n")
    (folder / "models" / "fusion" / "analysis.py").write_text("from regen_bench_plugins.models import fusion\n")
    (folder / "models" / "other.py").write_text(
        "def f():\n    from .fusion import analysis\n    import regen_bench_plugins.models.popular\n"
    )
    entry_points = {"fusion": "regen_bench_plugins.models.fusion", "popular": "regen_bench_plugins.models.popular"}
    found = {
        module: sorted({owner(t, entry_points) for _, t in imports(module, path)} - {None})
        for module, path in modules(folder, PLUGINS_PACKAGE).items()
    }
    assert found == {
        "regen_bench_plugins.models.fusion": ["fusion"],
        "regen_bench_plugins.models.fusion.analysis": ["fusion"],  # inside its own plugin: allowed
        "regen_bench_plugins.models.other": ["fusion", "popular"],  # function-level and relative imports count
    }
