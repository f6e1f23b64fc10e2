"""TE compute rules: quantize ops."""
