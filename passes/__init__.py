"""Graph passes, one per file; each registers itself with the pass manager."""
