"""The ONNX importer: `from_onnx(path_or_proto, input_shapes=None) -> Graph`."""

from edgecc.frontend.onnx.importer import from_onnx, load_model, unsupported_ops

__all__ = ["from_onnx", "load_model", "unsupported_ops"]
