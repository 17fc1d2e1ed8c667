"""REGEN from Kaggle: download with `kagglehub`, find the files, remember where they are.

`download("regen-office")` fetches the Kaggle dataset (kagglehub caches it, so a
second call does not download again), finds `office.jsonl` / `clothing.jsonl`
(or `.jsonl.gz`) anywhere below the folder kagglehub returns, and records their
absolute paths in `cache_dir()/datasets.json`. `registered_path(name)` reads that
registry; the `regen-office` and `regen-clothing` dataset plugins use it.

Nothing here touches the network at import; `kagglehub` is imported only by `download`.
"""

from __future__ import annotations

import json
from pathlib import Path

from regen_bench.contracts.errors import RegenBenchError, UnknownNameError
from regen_bench.util.atomic import atomic_write_text
from regen_bench.util.paths import cache_dir

HANDLE = "googleai/regen-reviews-enhanced-with-generative-narratives"
FILES: dict[str, str] = {
    "regen-office": "regen/REGEN/office.jsonl",
    "regen-clothing": "regen/REGEN/clothing.jsonl",
}
REGISTRY_FILE = "datasets.json"


def registry_path() -> Path:
    return cache_dir() / REGISTRY_FILE


def _check_name(name: str) -> None:
    if name not in FILES:
        raise UnknownNameError("dataset", name, list(FILES))


def _candidates(name: str) -> list[str]:
    """File names to look for: `office.jsonl`, then `office.jsonl.gz`."""
    base = FILES[name].rsplit("/", 1)[-1]
    return [base, base + ".gz"]


def find_files(folder: str | Path) -> dict[str, Path]:
    """Dataset name -> file, for each REGEN file found at or below `folder`.

    The Kaggle layout (`regen/REGEN/office.jsonl`) is tried first; otherwise any file
    of that name below the folder (kagglehub's folder layout varies between
    versions); with several, the one with the shortest path (then alphabetical).
    `.jsonl` is preferred over `.jsonl.gz`.
    """
    folder = Path(folder)
    if folder.is_file():
        found = {}
        for name in FILES:
            if folder.name in _candidates(name):
                found[name] = folder.resolve()
        return found
    found: dict[str, Path] = {}
    for name, relative in FILES.items():
        for candidate in (folder / relative, folder / (relative + ".gz")):
            if candidate.is_file():
                found[name] = candidate.resolve()
                break
        if name in found:
            continue
        for file_name in _candidates(name):
            matches = sorted(
                (p for p in folder.rglob(file_name) if p.is_file()),
                key=lambda p: (len(p.relative_to(folder).parts), str(p)),
            )
            if matches:
                found[name] = matches[0].resolve()
                break
    return found


def _read_registry() -> dict[str, str]:
    path = registry_path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RegenBenchError(
            f"{path}: cannot read the dataset registry ({exc}). Delete it and run "
            f"`regen-bench data download NAME` again."
        ) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise RegenBenchError(
            f"{path}: the dataset registry should map dataset names to file paths. "
            f"Delete it and run `regen-bench data download NAME` again."
        )
    return data


def register_download_folder(folder: str | Path) -> dict[str, Path]:
    """Find the REGEN files below `folder` and record them in the registry.

    Returns what was found (name -> absolute path); entries for other names already
    in the registry are kept. Raises when the folder holds none of the files.
    """
    folder = Path(folder)
    if not folder.exists():
        raise RegenBenchError(f"{folder}: no such folder (expected a REGEN download)")
    found = find_files(folder)
    if not found:
        seen = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.jsonl*") if p.is_file())[:10]
        wanted = ", ".join(f"{FILES[n].rsplit('/', 1)[-1]}[.gz]" for n in FILES)
        raise RegenBenchError(
            f"{folder}: none of the REGEN files ({wanted}) were found in this folder or below it. "
            + (f"JSON Lines files there: {', '.join(seen)}." if seen else "It holds no .jsonl files.")
        )
    registry = _read_registry()
    registry.update({name: str(path) for name, path in found.items()})
    atomic_write_text(registry_path(), json.dumps(dict(sorted(registry.items())), indent=2) + "\n")
    return found


def registered_path(name: str) -> Path:
    """The file registered for `regen-office` / `regen-clothing`, or a clear error."""
    _check_name(name)
    path = _read_registry().get(name)
    if path is None:
        raise RegenBenchError(
            f"dataset {name!r} is not downloaded yet. Run `regen-bench data download {name}` "
            f"(needs `pip install kagglehub` and Kaggle access), or pass --dataset PATH "
            f"to a REGEN .jsonl file you already have."
        )
    path = Path(path)
    if not path.is_file():
        raise RegenBenchError(
            f"dataset {name!r} was registered at {path}, but that file is gone. Run "
            f"`regen-bench data download {name}` again, or pass --dataset PATH."
        )
    return path


def download(name: str, dest: str | Path | None = None, *, force: bool = False) -> Path:
    """Download the REGEN Kaggle dataset (all its files) and return `name`'s file.

    `dest`: download into this folder instead of kagglehub's cache.
    """
    _check_name(name)
    try:
        import kagglehub
    except ImportError:
        raise RegenBenchError(
            "downloading REGEN needs kagglehub: pip install 'regen-bench[kaggle]' (or pip install kagglehub)"
        ) from None
    kwargs: dict = {}
    if dest is not None:
        Path(dest).mkdir(parents=True, exist_ok=True)
        kwargs["output_dir"] = str(dest)
    if force:
        kwargs["force_download"] = True
    try:
        folder = kagglehub.dataset_download(HANDLE, **kwargs)
    except Exception as exc:  # network, credentials, Kaggle errors: one readable line
        raise RegenBenchError(
            f"could not download {HANDLE} from Kaggle ({type(exc).__name__}: {exc}). Check the network "
            f"and your Kaggle credentials, or download the files yourself and pass --dataset PATH."
        ) from None
    found = register_download_folder(folder)
    if name not in found:
        raise RegenBenchError(
            f"the download at {folder} has no {FILES[name]} (found: "
            f"{', '.join(sorted(found)) or 'none'}); the Kaggle dataset's layout may have changed. "
            f"Pass --dataset PATH to the file instead."
        )
    return found[name]


__all__ = [
    "FILES",
    "HANDLE",
    "download",
    "find_files",
    "register_download_folder",
    "registered_path",
    "registry_path",
]
