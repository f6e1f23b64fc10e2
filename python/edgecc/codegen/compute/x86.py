"""TE compute rules for x86-specific op variants (packed weight layouts); being written."""
