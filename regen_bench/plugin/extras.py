"""Optional libraries a plugin needs, as one line naming the extra that installs them.

A plugin imports an optional library (implicit, sentence-transformers, bert-score,
transformers...) where it first needs it, through `require`::

    als = require("implicit.cpu.als", "models", "model 'wals'")

With the library missing, the user reads one line, not a `ModuleNotFoundError`:
`error: model 'wals' needs the optional library 'implicit', which is not installed:
pip install 'regen-bench[models]'`. A plugin also declares the extras it needs on its
class (`extras = ("models",)`), which `regen-bench list models` shows.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from regen_bench.contracts.errors import RegenBenchError

DISTRIBUTION = "regen-bench"


def install_hint(extras: str | tuple[str, ...]) -> str:
    """`pip install 'regen-bench[models]'` (or several extras, the first preferred)."""
    names = (extras,) if isinstance(extras, str) else tuple(extras)
    first, *rest = names
    hint = f"pip install '{DISTRIBUTION}[{first}]'"
    if rest:
        hint += " (or " + ", ".join(f"[{name}]" for name in rest) + ", which also installs it)"
    return hint


class MissingExtraError(RegenBenchError, ModuleNotFoundError):
    """An optional library a plugin needs is not installed; names the extra to install.

    Also a `ModuleNotFoundError`, so code that already falls back on a missing module
    (`except ImportError`) keeps doing so.
    """

    def __init__(self, module: str, extras: str | tuple[str, ...], for_what: str, reason: str = "",
                 library: str | None = None):
        self.module = module
        self.extras = (extras,) if isinstance(extras, str) else tuple(extras)
        self.for_what = for_what
        top = module.split(".")[0]
        detail = f" ({reason})" if reason else ""
        RegenBenchError.__init__(
            self,
            f"{for_what} needs the optional library {library or top!r}, which is not installed{detail}: "
            f"{install_hint(self.extras)}"
        )
        self.name = top


def require(module: str, extra: str | tuple[str, ...], for_what: str, *, library: str | None = None) -> ModuleType:
    """Import `module` and return it; when it (or its own dependency) is missing, a `MissingExtraError`.

    `extra` is the `regen-bench[...]` extra that installs it (a tuple: several do, the
    first is suggested first); `for_what` names who needs it, e.g. "model 'wals'";
    `library` the name to show when the top-level module's is unclear (`google-genai`).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or module
        reason = "" if missing.split(".")[0] == module.split(".")[0] else f"it needs {missing!r}"
        raise MissingExtraError(module, extra, for_what, reason, library) from exc


def check_installed(module: str, extra: str | tuple[str, ...], for_what: str, *, library: str | None = None) -> None:
    """A `MissingExtraError` now when `module` is not installed, without importing it (which may
    be slow): a plugin calls it when it is built, so a run stops before any work, and imports the
    library where it needs it, through `require`."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package; a module whose spec is unset
        found = False
    if not found:
        raise MissingExtraError(module, extra, for_what, "", library)
