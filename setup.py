"""edgecc: a graph-level deep-learning compiler for edge devices, built on Apache TVM."""

from setuptools import setup

PACKAGES = {
    "edgecc": "python/edgecc",
    "edgecc.frontend": "frontend",
    "edgecc.passes": "passes",
    "edgecc.schedules": "schedules",
    "edgecc.targets": "targets",
    "edgecc.autotune": "autotune",
}


def _subpackages() -> dict[str, str]:
    import os

    found = {}
    for pkg, root in PACKAGES.items():
        for dirpath, _dirs, files in os.walk(root):
            if "__init__.py" in files and "__pycache__" not in dirpath:
                rel = os.path.relpath(dirpath, root)
                name = pkg if rel == "." else pkg + "." + rel.replace(os.sep, ".")
                found[name] = dirpath
    return found


DIRS = _subpackages()

setup(
    name="edgecc",
    version="0.1.0",
    description="A graph-level deep-learning compiler for edge devices, built on Apache TVM",
    python_requires=">=3.10",
    packages=sorted(DIRS),
    package_dir=DIRS,
    install_requires=[
        "apache-tvm==0.27.0.post1",
        "apache-tvm-ffi==0.1.14.post1",
        "onnx==1.23.2",
        "numpy>=1.26",
        "networkx>=3.0",
        "xgboost-cpu",
    ],
    extras_require={
        "ref": ["onnxruntime==1.31.1"],
        "test": [
            "pytest",
            "pytest-xdist",
            "onnxruntime==1.31.1",
            "scikit-learn",
            "torch==2.13.0",
            "onnxscript==0.7.2",
        ],
    },
    package_data={"edgecc": ["data/*.onnx", "data/*.npz"]},
    entry_points={"console_scripts": ["edgecc=edgecc.cli.main:main"]},
)
