"""`edgecc info` and `edgecc dump` on real models: MACs against a hand count, IR after each pass."""

from __future__ import annotations

import json

from edgecc.cli.main import main
from edgecc.testing import zoo


def _resnet18_hand_count() -> int:
    """Conv and FC multiply-accumulates of ResNet-18 at 224x224, layer by layer."""
    conv1 = 112 * 112 * 64 * 3 * 7 * 7
    layer1 = 4 * (56 * 56 * 64 * 64 * 9)
    total = conv1 + layer1
    for size, cin, cout in ((28, 64, 128), (14, 128, 256), (7, 256, 512)):
        first = size * size * cout * cin * 9          # the strided 3x3
        rest = 3 * (size * size * cout * cout * 9)    # the other three 3x3 convs
        downsample = size * size * cout * cin         # the 1x1 projection
        total += first + rest + downsample
    return total + 512 * 1000                         # the classifier


def test_resnet18_macs_match_the_hand_count(capsys):
    path = zoo.resnet18("torchscript")
    assert main(["info", str(path), "--json", "--no-tensors"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert _resnet18_hand_count() == 1_814_073_344  # the published "1.82 GMACs"
    assert info["macs"] == _resnet18_hand_count()
    assert info["op_counts"]["nn.conv2d"] == 20 and info["op_counts"]["nn.dense"] == 1
    # torchvision counts 11,689,512 with batch norm; the exporter folded each norm's gamma and
    # beta (2 per channel) into one conv bias per channel, over 4,800 channels
    assert info["params"] == 11_689_512 - 4_800
    # the largest activation: conv1's output, 64x112x112 float32
    assert info["largest_activation"]["bytes"] == 64 * 112 * 112 * 4
    assert main(["info", str(path), "--no-tensors"]) == 0
    assert "1.814 GMACs" in capsys.readouterr().out


def test_dump_shows_each_pass_on_a_real_model(capsys):
    (cls,) = [m for m in zoo.packaged_models() if m.name == "ppocr_mobile_v2_cls"]
    shape = ",".join(str(d) for d in cls.input_shapes["x"])
    assert main(["dump", str(cls.path), "--input-shape", f"x={shape}", "-O", "2",
                 "--print-after-all", "--no-final"]) == 0
    out = capsys.readouterr().out
    dumps = out.split("*** IR Dump After ")
    assert [d.split(" ", 1)[0] for d in dumps[1:]] == [
        "simplify", "fold-constants", "fold-batchnorm", "simplify", "dce"]
    after_import, after_bn = dumps[1], dumps[3]
    assert "fold-batchnorm (changed)" in out
    assert after_import.count("nn.batch_norm(") == 35 and "nn.batch_norm(" not in after_bn
