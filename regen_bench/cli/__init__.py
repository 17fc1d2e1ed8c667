"""The `regen-bench` command line: click commands only; the work lives in the other packages."""
