"""Finds plugins (entry points and one-off files), loads them, and records failures.

A plugin that fails to import never breaks the CLI: it is kept as a `PluginInfo`
with its error (and traceback), `regen-bench plugins` shows it, and every other
command warns about it in one line (cli/group.py). Built-in plugins are found
through the same `regen_bench` entry-point group as a third party's.

REGEN_BENCH_BLOCK_PLUGINS (and REGEN_BENCH_LOAD_PLUGINS) take a comma-separated list
of entry-point names (`bleu`), distribution names (`regen-bench`, every plugin it
ships) or `DISTRIBUTION:ENTRY_POINT` (`my-metrics:bleu`, exactly one), compared as
pip compares distribution names (case, `-`, `_` and `.` do not matter). Two
distributions may ship entry points of one name: the second loads as
`DISTRIBUTION:NAME`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pluggy

from regen_bench.plugin import hookspecs

ENTRY_POINT_GROUP = "regen_bench"
LOAD_ENV = "REGEN_BENCH_LOAD_PLUGINS"
BLOCK_ENV = "REGEN_BENCH_BLOCK_PLUGINS"
BUILTIN_DISTRIBUTION = "regen-bench"
HOOK_NAMES = ("register_models", "register_metrics", "register_datasets", "register_loggers", "register_commands")


@dataclass
class PluginInfo:
    name: str
    distribution: str | None = None
    version: str | None = None
    source: str = "entry-point"  # or "file"
    hooks: list[str] = field(default_factory=list)
    error: str | None = None
    blocked: bool = False
    entry_point: str | None = None  # the entry point's own name (`name` may be `DIST:NAME`)
    target: str | None = None  # what the entry point loads, `module` or `module:attr`
    traceback: str | None = None  # of `error`, shown with --debug

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "source": self.source,
            "hooks": self.hooks,
            "error": self.error,
            "blocked": self.blocked,
            "entry_point": self.entry_point,
        }

    def fail(self, exc: BaseException, prefix: str = "") -> None:
        """Record `exc` as this plugin's error (the first one only) with its traceback."""
        if self.error is None:
            self.error = prefix + short_error(exc)
            self.traceback = "".join(traceback.format_exception(exc))

    def origin(self) -> str:
        """Where it comes from, for messages: `distribution regen-bench, entry point bleu` or `file x.py`."""
        if self.source == "file":
            return f"file {self.distribution}"
        if self.source == "object":
            return "registered in memory"
        return f"distribution {self.distribution or '?'}, entry point {self.entry_point or self.name}" + (
            f" = {self.target}" if self.target else "")

    def block_hint(self, unique_entry_point: bool = True) -> str:
        """How a user stops this one plugin from loading."""
        if self.source == "file":
            return f"drop --plugins {self.distribution}"
        if self.source == "object":
            return f"unregister {self.name!r}"
        ep = self.entry_point or self.name
        exact = ep if unique_entry_point else f"{self.distribution}:{ep}"
        if self.distribution in (None, BUILTIN_DISTRIBUTION):  # blocking every built-in is rarely meant
            return f"{BLOCK_ENV}={exact}"
        return (f"{BLOCK_ENV}={exact} (or {BLOCK_ENV}={self.distribution} to block every plugin of "
                f"distribution {self.distribution})")


def _split_env(name: str) -> list[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def normalise(name: str) -> str:
    """A distribution or entry-point name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _selectors(ep_name: str, dist_name: str | None) -> set[str]:
    """The names that select one entry point in REGEN_BENCH_LOAD_PLUGINS / BLOCK_PLUGINS."""
    names = {normalise(ep_name)}
    if dist_name:
        names |= {normalise(dist_name), f"{normalise(dist_name)}:{normalise(ep_name)}"}
    return names


def _normalised_env(name: str) -> set[str] | None:
    parts = _split_env(name)
    if parts is None:
        return None
    return {":".join(normalise(piece.strip()) for piece in part.split(":", 1)) for part in parts}


def short_error(exc: BaseException) -> str:
    """`Type: message (at file.py:line)`, where the line is the innermost frame that raised."""
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


class PluginHost:
    """One pluggy PluginManager plus what we learned while loading into it."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.unmatched: dict[str, list[str]] = {}  # env variable -> names in it that select no entry point

    # -- loading -----------------------------------------------------------
    def load_entry_points(self) -> None:
        allow = _normalised_env(LOAD_ENV)
        block = _normalised_env(BLOCK_ENV) or set()
        seen: set[str] = set()
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else None
            selectors = _selectors(ep.name, dist_name)
            seen |= selectors
            name = ep.name
            if name in self.infos:
                if self.infos[name].distribution == dist_name:
                    continue  # the same distribution listed twice (an editable install)
                name = f"{dist_name}:{ep.name}"  # another distribution's entry point of the same name
                if name in self.infos:
                    continue
            info = PluginInfo(
                name=name,
                distribution=dist_name,
                version=dist.version if dist is not None else None,
                entry_point=ep.name,
                target=ep.value,
            )
            if allow is not None and not selectors & allow:
                continue
            if selectors & block:
                self.pm.set_blocked(name)
                info.blocked = True
                self.infos[name] = info
                continue
            try:
                module = ep.load()
                self._register(module, info)
            except Exception as exc:  # a broken plugin must not break the CLI
                info.fail(exc)
                self.infos[name] = info
        for env, names in ((LOAD_ENV, allow), (BLOCK_ENV, block)):
            if names and names - seen:
                self.unmatched[env] = sorted(names - seen)

    def unique_entry_point(self, info: PluginInfo) -> bool:
        """True when no other distribution ships an entry point of `info`'s name."""
        return sum(1 for other in self.infos.values() if other.source == "entry-point"
                   and other.entry_point == info.entry_point) <= 1

    def failures(self) -> list[PluginInfo]:
        """The plugins that are loaded or asked for but failed (not the blocked ones), by name."""
        return sorted((info for info in self.infos.values() if info.error and not info.blocked),
                      key=lambda info: info.name)

    def load_file(self, path: str | os.PathLike) -> PluginInfo:
        """Load a one-off plugin file; a file already loaded is not loaded (and registered) twice."""
        path = Path(path)
        for info in self.infos.values():
            if info.source == "file" and Path(info.distribution).resolve() == path.resolve():
                return info
        name = path.stem
        info = PluginInfo(name=name, source="file", distribution=str(path))
        if name in self.infos:
            name = f"{name}:{path}"
            info.name = name
        try:
            if not path.is_file():
                raise FileNotFoundError(f"no plugin file at {path}")
            spec = importlib.util.spec_from_file_location(f"regen_bench_file_plugin_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._register(module, info)
        except Exception as exc:
            info.fail(exc)
            self.infos[name] = info
        return info

    def register_object(self, obj, name: str, distribution: str | None = None) -> PluginInfo:
        """Register an in-memory plugin (tests, notebooks)."""
        info = PluginInfo(name=name, distribution=distribution, source="object")
        self._register(obj, info)
        return info

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.infos.pop(name, None)

    def _register(self, module, info: PluginInfo) -> None:
        try:
            self.pm.register(module, name=info.name)
            # Catches hook implementations whose names match no hookspec (typos).
            self.pm.check_pending()
        except Exception as exc:
            if self.pm.is_registered(module):
                self.pm.unregister(module)
            info.fail(exc)
            self.infos[info.name] = info
            return
        info.hooks = sorted(h for h in HOOK_NAMES if hasattr(module, h))
        self.infos[info.name] = info

    # -- calling -----------------------------------------------------------
    def hook_implementations(self, hook_name: str):
        """(plugin name, function) pairs, in a stable order (sorted by plugin name)."""
        caller = getattr(self.pm.hook, hook_name)
        impls = [(impl.plugin_name, impl.function) for impl in caller.get_hookimpls()]
        return sorted(impls, key=lambda pair: pair[0])
