"""TE compute rules: nn.conv2d with blocked (packed) weights and data (being written)."""
