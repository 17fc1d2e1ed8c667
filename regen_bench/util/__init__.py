"""Small helpers every layer may use: atomic writes, stable hashes, cache paths, environment facts. Imports nothing else of regen_bench."""
