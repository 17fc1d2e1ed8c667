"""Which plugin an unexpected exception came from, so the CLI can name it in one line.

A traceback is read from the outermost frame in: the innermost frame that runs a method
of a registered model, metric or dataset class names that plugin (`metric 'bleu' (plugin
'bleu')`); failing that, the innermost frame in a plugin's own module (a command it
registered) names the plugin alone. Code of regen-bench itself names no plugin.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType, TracebackType

from regen_bench.plugin.host import PluginHost
from regen_bench.plugin.registry import Entry, Registry


@dataclass(frozen=True)
class PluginAtFault:
    plugin: str
    kind: str | None = None  # "model", "metric", "dataset"; None: the plugin's module, not a class
    entry: Entry | None = None

    def describe(self) -> str:
        if self.entry is None:
            return f"plugin {self.plugin!r}"
        return f"{self.kind} {self.entry.name!r} (plugin {self.plugin!r})"


def _frames(traceback: TracebackType | None):
    while traceback is not None:
        yield traceback.tb_frame
        traceback = traceback.tb_next


def _entry_of_instance(obj, by_class: dict[type, tuple[str, Entry]]) -> tuple[str, Entry] | None:
    for cls in type(obj).__mro__:  # a subclass of a registered class counts as that class
        if cls in by_class:
            return by_class[cls]
    return None


def plugin_at_fault(exc: BaseException, host: PluginHost, registry: Registry | None) -> PluginAtFault | None:
    """The plugin whose code raised `exc`, or None when no plugin's code is on the traceback.

    `registry` (None when nothing was looked up by name) lets a class's method name its entry.
    """
    entries = registry.entries if registry is not None else {}
    by_class = {entry.cls: (kind, entry) for kind, table in entries.items() for entry in table.values()}
    modules = {plugin.__name__: name for name, plugin in host.pm.list_name_plugin() if isinstance(plugin, ModuleType)}
    by_instance: PluginAtFault | None = None
    by_module: PluginAtFault | None = None
    for frame in _frames(exc.__traceback__):
        found = _entry_of_instance(frame.f_locals.get("self"), by_class)
        if found is not None:
            kind, entry = found
            by_instance = PluginAtFault(entry.plugin, kind, entry)
        module = frame.f_globals.get("__name__", "")
        for prefix, plugin in modules.items():
            if module == prefix or module.startswith(prefix + "."):
                by_module = PluginAtFault(plugin)
    return by_instance or by_module


def describe_instance(obj, kind: str, registry: Registry | None) -> str:
    """`model 'echo' (plugin 'echo_plugin')` for an instance of a registered class (no plugin: the name only)."""
    name = getattr(obj, "name", "") or type(obj).__name__
    table = registry.entries.get(kind, {}) if registry is not None else {}
    entry = table.get(name)
    if entry is not None and isinstance(obj, entry.cls):
        return f"{kind} {name!r} (plugin {entry.plugin!r})"
    return f"{kind} {name!r}"
