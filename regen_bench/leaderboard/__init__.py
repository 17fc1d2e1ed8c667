"""Leaderboards built from results files: tables, significance against the best row,
Markdown, CSV, JSON, a static HTML page and PNG plots.

Core code: it reads results files and asks the registry about metrics by name, and
never imports a concrete plugin. Entry point: `regen-bench leaderboard build`
(`regen_bench.cli.leaderboard.leaderboard`).
"""
