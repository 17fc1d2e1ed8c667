"""The plugin host: hook specs, loading entry points and files, name registries, building plugins from recorded specs, and naming the plugin behind a failure."""
