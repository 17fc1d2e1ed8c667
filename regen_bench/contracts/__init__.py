"""What a plugin implements and receives: Model, Metric, DatasetProvider, Example, REGEN records, task kinds, errors."""
