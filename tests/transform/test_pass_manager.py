"""Pass registry, pipeline strings, levels and instruments."""

import io
import json

import pytest

from edgecc.errors import PassError
from edgecc.ir.parser import parse_graph
from edgecc.ir.serialize import graph_from_json
from edgecc.transform import LEVELS, PassContext, get_pass, parse_pipeline, registry, run_pipeline
from edgecc.transform.instruments import CrashReproducer, DumpIR, PassTiming, PrintIR, VerifyEach

TEXT = """\
graph @main(%x: f32[4]) -> f32[4] {
  %1 = identity(%x) : f32[4]
  %2 = exp(%1) : f32[4]
  %3 = neg(%x) : f32[4]
  return %2
}
"""


def test_pipeline_round_trip():
    text = "simplify{max-rounds=3},fold-constants{max-bytes=4096},dce"
    assert str(parse_pipeline(text)) == text
    # default-valued options are dropped: the canonical form
    assert str(parse_pipeline("fold-constants{max-bytes=1048576}, dce")) == "fold-constants,dce"
    assert str(parse_pipeline("")) == ""


def test_levels_parse():
    for level, text in LEVELS.items():
        assert str(parse_pipeline(text)) == text, level


@pytest.mark.parametrize("bad, message", [
    ("fold-constant", "did you mean fold-constants"),
    ("dce{", "unbalanced"),
    ("dce}", "unbalanced"),
    ("fold-constants{max-bytes=lots}", "not a int"),
    ("fold-constants{size=3}", "no option 'size'"),
    ("fold-constants{max-bytes}", "key=value"),
    ("Fold_Constants", "cannot read"),
])
def test_bad_pipelines(bad, message):
    with pytest.raises(PassError, match=message):
        parse_pipeline(bad)


def test_options_are_typed():
    info = get_pass("fold-constants")
    assert info.options["max-bytes"].type is int
    assert parse_pipeline("fold-constants{max-bytes=7}").passes[0].options == {"max_bytes": 7}


def test_print_after_change_and_headers():
    g = parse_graph(TEXT)
    out = io.StringIO()
    run_pipeline(g, "dce,dce,simplify", PassContext([PrintIR(only_changed=True, stream=out)]))
    text = out.getvalue()
    assert text.count("*** IR Dump After dce (changed) ***") == 1
    assert "*** IR Dump After simplify (changed) ***" in text
    assert "(no change)" not in text


def test_print_after_named_and_all():
    g = parse_graph(TEXT)
    out = io.StringIO()
    run_pipeline(g, "dce,simplify", PassContext([PrintIR(passes=["simplify"], stream=out)]))
    assert "After dce" not in out.getvalue() and "After simplify" in out.getvalue()
    out = io.StringIO()
    run_pipeline(parse_graph(TEXT), "dce,dce", PassContext([PrintIR(stream=out, before=True)]))
    assert out.getvalue().count("IR Dump Before dce") == 2
    assert "After dce (no change)" in out.getvalue()


def test_dump_dir_numbered_files(tmp_path):
    g = parse_graph(TEXT)
    run_pipeline(g, "simplify,dce", PassContext([DumpIR(tmp_path)]))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["000_input.ir", "001_simplify.ir", "002_dce.ir"]
    body = (tmp_path / "002_dce.ir").read_text()
    assert body.startswith("# *** IR Dump After dce (changed) ***")
    parse_graph(body)  # the files are valid text form


def test_timing_table():
    timing = PassTiming()
    run_pipeline(parse_graph(TEXT), "simplify,dce", PassContext([timing]))
    report = timing.report()
    assert [r[0] for r in timing.rows] == ["simplify", "dce"]
    assert "simplify" in report and "total" in report


def _broken(graph, ctx):
    next(graph.ops()).type = graph.inputs[0].type.with_shape((5,))
    return True


def _crash(graph, ctx):
    raise RuntimeError("boom")


@pytest.fixture
def extra_passes(monkeypatch):
    monkeypatch.setitem(registry._PASSES, "test-break", registry.PassInfo("test-break", _broken,
                                                                            {}, ""))
    monkeypatch.setitem(registry._PASSES, "test-crash", registry.PassInfo("test-crash", _crash,
                                                                            {}, ""))


def test_verify_each_names_the_pass(extra_passes):
    with pytest.raises(PassError, match="invalid after pass test-break"):
        run_pipeline(parse_graph(TEXT), "dce,test-break", PassContext([VerifyEach()]))


def test_crash_reproducer(extra_passes, tmp_path):
    g = parse_graph(TEXT)
    with pytest.raises(PassError, match="pass test-crash failed: RuntimeError: boom") as info:
        run_pipeline(g, "simplify,test-crash,dce", PassContext([CrashReproducer(tmp_path)]))
    assert str(tmp_path) in str(info.value)
    saved = graph_from_json((tmp_path / "before_test-crash.json").read_text())
    assert [n.op for n in saved.ops()] == ["exp", "neg"]  # after simplify, before the crash
    repro = (tmp_path / "reproduce.txt").read_text()
    assert "simplify,test-crash,dce" in repro and "boom" in repro


def test_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("EDGECC_PRINT_AFTER", "dce")
    monkeypatch.setenv("EDGECC_DUMP_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("EDGECC_DEBUG", "2")
    ctx = PassContext.from_env()
    kinds = {type(i).__name__ for i in ctx.instruments}
    assert {"PrintIR", "DumpIR", "PassTiming", "CrashReproducer", "VerifyEach"} <= kinds
    monkeypatch.setenv("EDGECC_DEBUG", "x")
    with pytest.raises(Exception, match="EDGECC_DEBUG"):
        PassContext.from_env()


def test_stats_are_counted():
    ctx = PassContext()
    run_pipeline(parse_graph(TEXT), "simplify,dce", ctx)
    assert ctx.stats == {"simplify.identity": 1, "dce.removed": 1}
    json.dumps(ctx.stats)
