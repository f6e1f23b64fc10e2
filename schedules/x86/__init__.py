"""x86 schedule templates (registered on import)."""
