"""Finds plugins (entry points and one-off files), loads them, and records failures.

A plugin that fails to import never breaks the CLI: it is kept as a `PluginInfo`
with its error, and `regen-bench plugins` shows it. Built-in plugins are found
through the same `regen_bench` entry-point group as a third party's.
"""

from __future__ import annotations

import importlib.util
import os
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pluggy

from regen_bench.plugin import hookspecs

ENTRY_POINT_GROUP = "regen_bench"
LOAD_ENV = "REGEN_BENCH_LOAD_PLUGINS"
BLOCK_ENV = "REGEN_BENCH_BLOCK_PLUGINS"
HOOK_NAMES = ("register_models", "register_metrics", "register_datasets", "register_commands")


@dataclass
class PluginInfo:
    name: str
    distribution: str | None = None
    version: str | None = None
    source: str = "entry-point"  # or "file"
    hooks: list[str] = field(default_factory=list)
    error: str | None = None
    blocked: bool = False

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "source": self.source,
            "hooks": self.hooks,
            "error": self.error,
            "blocked": self.blocked,
        }


def _split_env(name: str) -> list[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


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

    # -- loading -----------------------------------------------------------
    def load_entry_points(self) -> None:
        allow = _split_env(LOAD_ENV)
        block = set(_split_env(BLOCK_ENV) or [])
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in self.infos:
                continue
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else None
            info = PluginInfo(
                name=ep.name,
                distribution=dist_name,
                version=dist.version if dist is not None else None,
            )
            names = {ep.name, dist_name or ""}
            if allow is not None and not names & set(allow):
                continue
            if names & block:
                self.pm.set_blocked(ep.name)
                info.blocked = True
                self.infos[ep.name] = info
                continue
            try:
                module = ep.load()
                self._register(module, info)
            except Exception as exc:  # a broken plugin must not break the CLI
                info.error = short_error(exc)
                self.infos[ep.name] = info

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
            info.error = short_error(exc)
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
            info.error = short_error(exc)
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
