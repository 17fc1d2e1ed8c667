"""Statistics: bootstrap confidence intervals and the paired significance tests."""
