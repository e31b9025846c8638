"""Vendor report parsing, tested on real Vivado HLS / Vivado reports from ../shared.

Each test lays a fixture out the way an hls4ml project holds it (``project.tcl``,
``myproject_prj/vivado_hls.app``, ``myproject_prj/solution1/syn/report/…``,
``vivado_synth.rpt``) in a temporary directory. Expected numbers were read from the
report files by hand.
"""

import shutil
from pathlib import Path

import pytest

from hls_backend.vendor_reports import parse_csynth_text, parse_vendor_reports
from qnas.errors import CandidateFailed
from qnas.results import SynthesisResult

pytest.importorskip("hls4ml")


def _layout(shared_dir, fixture: str, dest: Path, *, vivado_synth: bool = True) -> Path:
    src = Path(shared_dir) / "fixtures" / "vendor_reports" / fixture
    (dest / "project.tcl").write_text('variable project_name\nset project_name "myproject"\n'
                                      'variable backend\nset backend "vivado"\n')
    report_dir = dest / "myproject_prj" / "solution1" / "syn" / "report"
    report_dir.mkdir(parents=True)
    # the tutorial fixtures keep no .app; the HLS project file is the same for every hls4ml project
    shutil.copy(Path(shared_dir) / "fixtures" / "vendor_reports" / "hls4ml_test_vivado" / "vivado_hls.app",
                dest / "myproject_prj")
    for path in src.iterdir():
        if path.name.startswith("myproject_csynth"):
            shutil.copy(path, report_dir)
        elif path.name == "vivado_synth.rpt" and vivado_synth:
            shutil.copy(path, dest)
    return dest


def test_hls4ml_test_project_prefers_post_synthesis_numbers(shared_dir, tmp_path):
    result = parse_vendor_reports(_layout(shared_dir, "hls4ml_test_vivado", tmp_path))
    assert isinstance(result, SynthesisResult)
    # vivado_synth.rpt: Slice LUTs 1526, Slice Registers 2428, DSPs 66, Block RAM Tile 0
    assert (result.lut, result.ff, result.dsp, result.bram) == (1526, 2428, 66, 0)
    # csynth.xml: latency 10 cycles, interval 8, target clock 5.00 ns, xc7z020-clg400-1, 2020.1
    assert (result.latency_cycles, result.ii_cycles, result.clock_ns, result.latency_ns) == (10, 8, 5.0, 50.0)
    assert result.part == "xc7z020-clg400-1"
    assert result.producer == "vivado_hls + vivado synth"
    assert result.tool_version == "vivado_hls 2020.1; vivado 2020.1"
    assert result.extra["hls_estimate"] == {"lut": 2532, "ff": 7969, "dsp": 73, "bram": 0}
    assert result.extra["hls_estimated_clock_ns"] == 4.049
    assert SynthesisResult.from_dict(result.to_dict()) == result


def test_hls_only_project_reports_hls_estimates(shared_dir, tmp_path):
    result = parse_vendor_reports(_layout(shared_dir, "hls4ml_test_vivado", tmp_path, vivado_synth=False),
                                  part="xc7z020clg400-1", clock_ns=4.0)
    assert (result.lut, result.ff, result.dsp, result.bram) == (2532, 7969, 73, 0)
    assert result.producer == "vivado_hls" and result.tool_version == "2020.1"
    assert result.part == "xc7z020clg400-1"  # the override wins
    assert (result.clock_ns, result.latency_ns) == (4.0, 40.0)


@pytest.mark.parametrize("fixture,lut,ff,dsp,bram,hls", [
    # vivado_synth.rpt: CLB LUTs, CLB Registers, DSPs, 2 x Block RAM Tile (= RAMB18 count);
    # csynth.rpt Total row: BRAM_18K, DSP48E, FF, LUT
    ("tutorial_pruned_cnn", 123948, 43435, 5386, 84, (100, 5414, 52549, 245466)),
    ("tutorial_quantized_pruned_cnn", 118931, 30702, 353, 68, (100, 340, 43847, 263280)),
])
def test_tutorial_reports_without_xml(shared_dir, tmp_path, fixture, lut, ff, dsp, bram, hls):
    result = parse_vendor_reports(_layout(shared_dir, fixture, tmp_path))
    assert (result.lut, result.ff, result.dsp, result.bram) == (lut, ff, dsp, bram)
    # csynth.rpt latency summary: 1044 cycles, interval 1028, 5.00 ns target on an xcu250
    assert (result.latency_cycles, result.ii_cycles, result.latency_ns) == (1044, 1028, 5220.0)
    assert result.part == "xcu250-figd2104-2L-e"
    assert result.tool_version == "vivado_hls 2020.1; vivado 2020.1"
    bram_18k, dsp48, hls_ff, hls_lut = hls
    assert result.extra["hls_estimate"] == {"lut": hls_lut, "ff": hls_ff, "dsp": dsp48, "bram": bram_18k}


def test_text_report_agrees_with_xml_report(shared_dir):
    text = (Path(shared_dir) / "fixtures/vendor_reports/hls4ml_test_vivado/myproject_csynth.rpt").read_text()
    parsed = parse_csynth_text(text)
    assert parsed["TargetClockPeriod"] == "5.00" and parsed["EstimatedClockPeriod"] == "4.049"
    assert (parsed["BestLatency"], parsed["WorstLatency"], parsed["IntervalMin"], parsed["IntervalMax"]) == \
        ("10", "10", "8", "8")
    assert (parsed["LUT"], parsed["FF"], parsed["DSP"], parsed["BRAM_18K"]) == ("2532", "7969", "73", "0")


def test_missing_reports_say_what_is_missing(shared_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="no hls4ml project directory"):
        parse_vendor_reports(tmp_path / "nowhere")
    with pytest.raises(CandidateFailed, match="no project.tcl"):
        parse_vendor_reports(tmp_path)
    (tmp_path / "prj").mkdir()
    project = _layout(shared_dir, "hls4ml_test_vivado", tmp_path / "prj")
    for report in (project / "myproject_prj/solution1/syn/report").iterdir():
        report.unlink()
    with pytest.raises(CandidateFailed, match="did C synthesis run"):
        parse_vendor_reports(project)
