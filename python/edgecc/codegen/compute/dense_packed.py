"""TE compute rules: nn.dense with packed weights (being written)."""
