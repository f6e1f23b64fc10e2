"""TE compute rules: reduce ops."""
