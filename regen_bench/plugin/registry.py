"""Name -> class registries for models, metrics, datasets and loggers, built from plugin hooks.

`get_registry()` loads entry-point plugins once per process; `--plugins FILE`
adds one-off plugins before the first lookup.

Nothing a plugin does wrong breaks the registry as a whole: a plugin that failed to
load or whose hook raised is recorded on its `PluginInfo`; a name two plugins register
is a clash, and only looking that name up fails (`NameClashError`, naming both plugins,
their distributions, and how to block either). `problems()` lists all of them, one line
each, for the CLI to warn about on every command.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from regen_bench.contracts.dataset import DatasetProvider
from regen_bench.contracts.errors import DuplicateNameError, RegenBenchError, UnknownNameError
from regen_bench.contracts.logger import RunLogger
from regen_bench.contracts.metric import Metric
from regen_bench.contracts.model import Model
from regen_bench.plugin.host import PluginHost, PluginInfo

KINDS = {"model": "register_models", "metric": "register_metrics", "dataset": "register_datasets",
         "logger": "register_loggers"}
# What each kind must subclass: the core reads only attributes these declare.
BASES: dict[str, type] = {"model": Model, "metric": Metric, "dataset": DatasetProvider, "logger": RunLogger}


@dataclass
class Entry:
    name: str
    cls: type
    plugin: str

    @property
    def description(self) -> str:
        text = self.cls.description or (self.cls.__doc__ or "")
        return text.strip().splitlines()[0] if text.strip() else ""


class NameClashError(DuplicateNameError):
    """Two plugins registered one name: says where each comes from and how to block either."""

    def __init__(self, kind: str, name: str, claims: list[tuple[Entry, PluginInfo]], host: PluginHost):
        self.kind, self.name = kind, name
        self.plugins = [entry.plugin for entry, _ in claims]
        described = " and ".join(f"{entry.plugin!r} ({info.origin()})" for entry, info in claims)
        hints = "; or ".join(f"to keep {other.plugin!r}, block {entry.plugin!r}: "
                             f"{info.block_hint(host.unique_entry_point(info))}"
                             for (entry, info), (other, _) in zip(claims, reversed(claims)))
        RegenBenchError.__init__(self, f"{kind} {name!r} is registered by two plugins: {described}. "
                                       f"Uninstall one, or {hints}")


class UnavailableNameError(UnknownNameError):
    """An unknown name while some plugins failed to load: one of them may be the one that registers it."""

    def __init__(self, kind: str, name: str, known: list[str], failed: list[PluginInfo]):
        super().__init__(kind, name, known)
        own = [info for info in failed if info.name == name or info.entry_point == name]
        shown = own or failed
        why = "; ".join(f"plugin {info.name!r} ({info.origin()}) failed to load: {info.error}" for info in shown)
        if own:
            message = f"{kind} {name!r} is unavailable: {why}. Fix that plugin (--debug shows the traceback)"
        else:
            message = (f"{self.args[0]}. Note: {why}; if it registers the {kind} {name!r}, fix it "
                       "(--debug shows the traceback)")
        self.args = (message,)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class Registry:
    host: PluginHost
    entries: dict[str, dict[str, Entry]] = field(default_factory=dict)
    # kind -> name -> every Entry that claimed it (two or more); such a name is left out of `entries`
    clashes: dict[str, dict[str, list[Entry]]] = field(default_factory=dict)

    @classmethod
    def build(cls, host: PluginHost) -> "Registry":
        registry = cls(host=host, entries={kind: {} for kind in KINDS}, clashes={kind: {} for kind in KINDS})
        for kind, hook_name in KINDS.items():
            for plugin_name, function in host.hook_implementations(hook_name):
                registry._call_hook(kind, plugin_name, function)
        for kind, names in registry.clashes.items():
            for name in names:
                registry.entries[kind].pop(name, None)
        return registry

    def _info(self, plugin_name: str) -> PluginInfo:
        return self.host.infos.get(plugin_name) or PluginInfo(name=plugin_name, source="object")

    def clash_error(self, kind: str, name: str) -> NameClashError:
        claims = self.clashes[kind][name]
        return NameClashError(kind, name, [(entry, self._info(entry.plugin)) for entry in claims[:2]], self.host)

    def problems(self) -> list[str]:
        """One line per plugin that failed and per name clash, for the CLI to warn about."""
        lines = [f"plugin {info.name!r} ({info.origin()}) failed to load: {info.error}; what it registers is "
                 "unavailable (--debug shows the traceback)" for info in self.host.failures()]
        lines += [str(self.clash_error(kind, name)) for kind, names in self.clashes.items() for name in sorted(names)]
        lines += [f"{env} names {', '.join(map(repr, names))}, which no installed plugin's entry point or "
                  "distribution is (`regen-bench plugins` lists them)" for env, names in self.host.unmatched.items()]
        return lines

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
            entry = Entry(name=thing_name, cls=thing, plugin=plugin_name)
            if thing_name in table and table[thing_name].plugin != plugin_name:
                self.clashes[kind].setdefault(thing_name, [table[thing_name]]).append(entry)
                return
            table[thing_name] = entry

        try:
            function(register=register)
        except Exception as exc:
            info = self.host.infos.get(plugin_name)
            if info is not None:
                info.fail(exc, prefix=f"{KINDS[kind]} failed: ")

    def names(self, kind: str) -> list[str]:
        return sorted(self.entries[kind])

    def get(self, kind: str, name: str) -> Entry:
        try:
            return self.entries[kind][name]
        except KeyError:
            pass
        if name in self.clashes.get(kind, {}):
            raise self.clash_error(kind, name)
        failed = self.host.failures()
        if failed:
            raise UnavailableNameError(kind, name, self.names(kind), failed)
        raise UnknownNameError(kind, name, self.names(kind))


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
