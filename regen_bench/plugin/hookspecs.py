"""The hooks a regen-bench plugin may implement. Each receives a `register` callable."""

import pluggy

hookspec = pluggy.HookspecMarker("regen_bench")
hookimpl = pluggy.HookimplMarker("regen_bench")


@hookspec
def register_models(register):
    """Register Model subclasses: call register(ModelClass) once per model."""


@hookspec
def register_metrics(register):
    """Register Metric subclasses: call register(MetricClass) once per metric."""


@hookspec
def register_datasets(register):
    """Register DatasetProvider subclasses: call register(ProviderClass) once per dataset."""


@hookspec
def register_loggers(register):
    """Register RunLogger subclasses (experiment trackers): call register(LoggerClass) once per logger."""


@hookspec
def register_commands(cli):
    """Add click commands: `cli` is the `regen-bench` group (its `analyze` group takes analyses, `data` data commands)."""
