"""x86 schedule templates: dense and matmul (being written)."""
