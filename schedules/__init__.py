"""Schedule templates per (op, target, variant); filled in by the codegen work."""
