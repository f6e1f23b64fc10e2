"""ONNX op converters, one module per op family (registered in `registry.FAMILIES`)."""
