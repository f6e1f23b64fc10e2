"""Target descriptions, toolchains and device runners; filled in by the codegen work."""
