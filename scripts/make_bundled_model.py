"""Regenerate the demo's bundled model: the digits CNN and 64 held-out test images.

    .venv/bin/python scripts/make_bundled_model.py

Writes python/edgecc/data/digits_cnn.onnx (trained by edgecc.testing.zoo, seeded) and
python/edgecc/data/digits_samples.npz (images [64,1,8,8] float32, labels [64] int64) taken from
the test split the model never saw.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from edgecc.testing import zoo

DATA = Path(__file__).resolve().parent.parent / "python" / "edgecc" / "data"
SAMPLES = 64


def main() -> None:
    trained = zoo.digits_cnn()
    DATA.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(trained.path, DATA / "digits_cnn.onnx")
    data = zoo.digits_data()
    np.savez_compressed(DATA / "digits_samples.npz",
                        images=data.x_test[:SAMPLES].astype(np.float32),
                        labels=data.y_test[:SAMPLES].astype(np.int64))
    print(f"wrote {DATA}/digits_cnn.onnx (test accuracy {trained.info['test_accuracy']:.3f}) and "
          f"{SAMPLES} held-out samples")


if __name__ == "__main__":
    main()
