"""Name -> class registries for models, metrics and datasets, built from plugin hooks.

`get_registry()` loads entry-point plugins once per process; `--plugins FILE`
adds one-off plugins before the first lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from regen_bench.contracts.dataset import DatasetProvider
from regen_bench.contracts.errors import DuplicateNameError, RegenBenchError, UnknownNameError
from regen_bench.contracts.metric import Metric
from regen_bench.contracts.model import Model
from regen_bench.plugin.host import PluginHost, short_error

KINDS = {"model": "register_models", "metric": "register_metrics", "dataset": "register_datasets"}
# What each kind must subclass: the core reads only attributes these declare.
BASES: dict[str, type] = {"model": Model, "metric": Metric, "dataset": DatasetProvider}


@dataclass
class Entry:
    name: str
    cls: type
    plugin: str

    @property
    def description(self) -> str:
        text = self.cls.description or (self.cls.__doc__ or "")
        return text.strip().splitlines()[0] if text.strip() else ""


@dataclass
class Registry:
    host: PluginHost
    entries: dict[str, dict[str, Entry]] = field(default_factory=dict)

    @classmethod
    def build(cls, host: PluginHost) -> "Registry":
        registry = cls(host=host, entries={kind: {} for kind in KINDS})
        for kind, hook_name in KINDS.items():
            for plugin_name, function in host.hook_implementations(hook_name):
                registry._call_hook(kind, plugin_name, function)
        return registry

    def _call_hook(self, kind: str, plugin_name: str, function) -> None:
        table = self.entries[kind]

        def register(thing, name: str | None = None):
            base = BASES[kind]
            if not (isinstance(thing, type) and issubclass(thing, base)):
                info = self.host.infos.get(plugin_name)
                source = f" (distribution {info.distribution})" if info is not None and info.distribution else ""
                raise RegenBenchError(
                    f"plugin {plugin_name!r}{source} registered {thing!r} as a {kind}, but it is not a "
                    f"subclass of regen_bench.{base.__name__}: subclass it (from regen_bench import {base.__name__})"
                )
            thing_name = name or thing.name
            if not thing_name or not isinstance(thing_name, str):
                raise RegenBenchError(
                    f"plugin {plugin_name!r} registered a {kind} without a name: "
                    f"give {thing!r} a class attribute `name = '...'`"
                )
            if thing_name in table and table[thing_name].plugin != plugin_name:
                raise DuplicateNameError(kind, thing_name, table[thing_name].plugin, plugin_name)
            table[thing_name] = Entry(name=thing_name, cls=thing, plugin=plugin_name)

        try:
            function(register=register)
        except DuplicateNameError:
            raise
        except Exception as exc:
            info = self.host.infos.get(plugin_name)
            if info is not None and info.error is None:
                info.error = f"{KINDS[kind]} failed: {short_error(exc)}"

    def names(self, kind: str) -> list[str]:
        return sorted(self.entries[kind])

    def get(self, kind: str, name: str) -> Entry:
        try:
            return self.entries[kind][name]
        except KeyError:
            raise UnknownNameError(kind, name, self.names(kind)) from None


_host: PluginHost | None = None
_registry: Registry | None = None
_extra_files: list[str] = []


def add_plugin_files(paths) -> None:
    """Queue one-off plugin files; must be called before the first `get_registry()`."""
    global _registry
    _extra_files.extend(str(p) for p in paths)
    _registry = None


def get_host() -> PluginHost:
    global _host
    if _host is None:
        _host = PluginHost()
        _host.load_entry_points()
    for path in list(_extra_files):
        _host.load_file(path)
    _extra_files.clear()
    return _host


def get_registry() -> Registry:
    global _registry
    if _registry is None or _extra_files:
        _registry = Registry.build(get_host())
    return _registry


def loaded_registry() -> Registry | None:
    """The registry if one was built in this process, without building one (error reports)."""
    return _registry


def reset() -> None:
    """Forget everything loaded (tests)."""
    global _host, _registry
    _host = None
    _registry = None
    _extra_files.clear()
