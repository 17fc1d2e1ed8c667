"""Synthetic REGEN-format data (being written)."""
