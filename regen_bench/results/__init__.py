"""Results files: the schema, the run loader, validation, paired comparison of runs, terminal reports."""
