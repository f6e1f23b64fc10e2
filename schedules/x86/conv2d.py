"""x86 schedule template: convolution (being written)."""
