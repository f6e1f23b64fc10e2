"""Code generation: kernels (fused groups) lowered to TVM TensorIR and built into a module."""
