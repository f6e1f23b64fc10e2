"""TE compute rule: `image.resize2d` (ONNX Resize on NCHW). Imported by `transform`.

NOTE: [resize] handwritten rather than topi.image.resize2d: TOPI derives the coordinate scale
from the sizes (the IR's `scales` may differ from out / in), computes source coordinates in
float32 (the reference uses float64, and nearest rounding at an exact .5 or floor at a whole
number flips with the rounding of, e.g., y * (in - 1) / (out - 1)), and has no counterpart
of the reference's identity shortcut for an axis whose size and scale do not change. Here
coordinates and weights are float64 expressions written in the reference's order; the taps of
linear (2) and cubic (4) modes are unrolled, H first, then W, as the reference sums them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from tvm import te, tirx

from edgecc.codegen.compute.common import cast, dt, is_int, shape_of
from edgecc.codegen.compute.registry import register_compute
from edgecc.errors import UnsupportedError

F64 = "float64"


def _f(v: float) -> Any:
    return tirx.const(float(v), F64)


@dataclass
class _Axis:
    n_in: int
    n_out: int
    scale: float  # the coordinate mapping's scale (out / in unless given)
    mode: str
    coord_mode: str
    nearest_mode: str
    cubic_a: float
    exclude_outside: bool

    def coord(self, y: Any) -> Any:
        """The input coordinate (float64) of output index y (source_coords in ops)."""
        yf = cast(y, F64)
        s = _f(self.scale)
        m = self.coord_mode
        if m == "half_pixel":
            return (yf + _f(0.5)) / s - _f(0.5)
        if m == "half_pixel_symmetric":
            adjustment = self.n_out / (self.scale * self.n_in)
            offset = self.n_in / 2 * (1 - adjustment)
            return _f(offset) + (yf + _f(0.5)) / s - _f(0.5)
        if m == "pytorch_half_pixel":
            return (yf + _f(0.5)) / s - _f(0.5) if self.n_out > 1 else _f(0.0)
        if m == "align_corners":
            if self.n_out <= 1:
                return _f(0.0)
            return yf * _f(self.n_in - 1) / _f(self.n_out - 1)
        if m == "asymmetric":
            return yf / s
        if m == "tf_half_pixel_for_nn":
            return (yf + _f(0.5)) / s
        raise UnsupportedError(f"image.resize2d: coordinate_transformation_mode {m!r} is not "
                               "implemented")

    def clamp(self, v: Any) -> Any:
        """A whole float64 index clamped to the input, as int32."""
        return cast(tirx.min(tirx.max(v, _f(0)), _f(self.n_in - 1)), "int32")

    def nearest(self, y: Any) -> Any:
        x = self.coord(y)
        nm = self.nearest_mode
        if nm == "round_prefer_floor":
            v = tirx.ceil(x - _f(0.5))
        elif nm == "round_prefer_ceil":
            v = tirx.floor(x + _f(0.5))
        elif nm == "floor":
            v = tirx.floor(x)
        else:
            v = tirx.ceil(x)
        return self.clamp(v)

    def taps(self, y: Any) -> list[tuple[Any, Any]]:
        """[(input index, float64 weight)] of the linear or cubic interpolation at y."""
        x = self.coord(y)
        base = tirx.floor(x)
        frac = x - base
        if self.mode == "linear":
            offsets = [0, 1]
            weights = [_f(1) - frac, frac]
        else:
            offsets = [-1, 0, 1, 2]
            weights = [self._cubic(frac - _f(o)) for o in offsets]
        raws = [base + _f(o) for o in offsets]
        if self.exclude_outside:
            weights = [tirx.Select(tirx.Or(r < _f(0), r >= _f(self.n_in)), _f(0), wt)
                       for r, wt in zip(raws, weights)]
            total = weights[0]
            for wt in weights[1:]:
                total = total + wt
            total = tirx.Select(total == _f(0), _f(1), total)
            weights = [wt / total for wt in weights]
        return [(self.clamp(r), wt) for r, wt in zip(raws, weights)]

    def _cubic(self, t: Any) -> Any:
        a = self.cubic_a
        t = tirx.abs(t)
        near = (_f(a + 2) * t - _f(a + 3)) * t * t + _f(1)
        far = ((_f(a) * t - _f(5 * a)) * t + _f(8 * a)) * t - _f(4 * a)
        return tirx.Select(t <= _f(1), near, tirx.Select(t < _f(2), far, _f(0)))


@register_compute("image.resize2d")
def _resize2d(x: Any, *, out_type: Any, sizes: tuple[int, int], mode: str,
              coordinate_transformation_mode: str, nearest_mode: str, cubic_coeff_a: float,
              exclude_outside: bool, scales: tuple[float, float] | None) -> Any:
    dtype = dt(x)
    n, c, h, w = shape_of(x)
    axes: list[_Axis | None] = []
    for i, n_in in enumerate((h, w)):
        n_out = int(sizes[i])
        given = None if scales is None else float(scales[i])
        if n_in == n_out and given in (None, 1.0):
            axes.append(None)  # the identity in every mode, as the reference (and onnxruntime)
            continue
        axes.append(_Axis(n_in, n_out, n_out / n_in if given is None else given, mode,
                          coordinate_transformation_mode, nearest_mode, float(cubic_coeff_a),
                          bool(exclude_outside)))
    ax_h, ax_w = axes
    shape = (n, c, int(sizes[0]), int(sizes[1]))

    def taps_of(ax: _Axis | None, y: Any) -> list[tuple[Any, Any]] | None:
        return None if ax is None else ax.taps(y)

    if mode == "nearest":
        def near(b: Any, ch: Any, i: Any, j: Any) -> Any:
            ih = i if ax_h is None else ax_h.nearest(i)
            iw = j if ax_w is None else ax_w.nearest(j)
            return x[b, ch, ih, iw]

        return te.compute(shape, near, name="resize_nearest")

    def interp(b: Any, ch: Any, i: Any, j: Any) -> Any:
        th = taps_of(ax_h, i)
        tw = taps_of(ax_w, j)

        def along_h(col: Any) -> Any:
            if th is None:
                return cast(x[b, ch, i, col], F64)
            acc = None
            for ih, wt in th:
                term = cast(x[b, ch, ih, col], F64) * wt
                acc = term if acc is None else acc + term
            return acc

        if tw is None:
            val = along_h(j)
        else:
            val = None
            for iw, wt in tw:
                term = along_h(iw) * wt
                val = term if val is None else val + term
        if is_int(dtype):  # integer images: truncate toward zero and saturate
            info = np.iinfo(dtype)
            val = tirx.min(tirx.max(tirx.trunc(val), _f(info.min)), _f(info.max))
        return cast(val, dtype)

    return te.compute(shape, interp, name=f"resize_{mode}")

