"""The `edgecc` command line."""
