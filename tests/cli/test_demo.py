"""`edgecc demo` (what the README's first command runs) completes and checks what it prints."""

from edgecc.cli.main import main


def test_demo_end_to_end(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "OK: edgecc's interpreter agrees with onnxruntime" in out
    assert "OK: the compiled model agrees with the interpreter" in out
    assert "accuracy:" in out and "pipeline O2" in out
