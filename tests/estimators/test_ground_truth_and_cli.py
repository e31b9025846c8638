"""Ground-truth dataset plumbing, the CLI, and the no-heavy-import contract."""

import json
import subprocess
import sys

import numpy as np

from estimators.ground_truth import GroundTruthRecord, read_records, sample_spec, sample_weights, split_of
from qnas.results import SynthesisResult

from est_helpers import mlp


def main(argv):
    """``qnas`` with only this package's sub-commands (others may be mid-development)."""
    import argparse

    from estimators import cli
    from qnas.errors import QnasError

    parser = argparse.ArgumentParser(prog="qnas")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except QnasError as exc:
        print(f"qnas {args.command}: error: {exc}", file=sys.stderr)
        return 2


def test_split_is_a_fixed_function_of_the_design():
    splits = [split_of(f"{i:016x}", 0) for i in range(400)]
    assert splits == [split_of(f"{i:016x}", 0) for i in range(400)]
    assert 0.15 < splits.count("heldout") / 400 < 0.35


def test_sampled_weights_are_reproducible_and_representable():
    spec = sample_spec(np.random.default_rng(1))
    a, b = sample_weights(spec, 5), sample_weights(spec, 5)
    a.check(spec)
    assert all(np.array_equal(x.kernel, y.kernel) for x, y in zip(a, b))
    zeros = np.mean(np.concatenate([lw.kernel.ravel() for lw in a]) == 0)
    assert 0.0 < zeros < 0.9


def test_record_round_trip_and_truncated_tail(tmp_path):
    spec = mlp((8, 4, 2))
    truth = SynthesisResult(lut=10, ff=5, dsp=0, bram=0, latency_cycles=3, ii_cycles=1, clock_ns=5, latency_ns=15,
                            part="xcvu13p-flga2577-2-e", producer="yosys 0.23 synth_xilinx")
    path = tmp_path / "gt.jsonl"
    path.write_text(GroundTruthRecord(spec, 1, truth, 2.0).to_json() + "\n" + '{"spec": {"n_in')
    records = read_records(path)
    assert len(records) == 1 and records[0].spec == spec and records[0].truth.lut == 10


def test_estimate_command(tmp_path, capsys):
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(mlp().to_json())
    assert main(["estimate", str(spec_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["producer"].startswith("qnas.da") and out["lut"] > 0


def test_estimate_command_bad_part_is_one_line_error(tmp_path, capsys):
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(mlp().to_json())
    assert main(["estimate", str(spec_path), "--part", "nope"]) == 2
    assert "part: unknown FPGA part" in capsys.readouterr().err


def test_importing_estimators_loads_no_heavy_dependency():
    code = ("import estimators, estimators.cli, estimators.calibration\n"
            "import sys\nprint(','.join(m for m in ('tensorflow', 'hls4ml', 'da4ml', 'tf_keras', 'qkeras')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_record_of_trained_weights_keeps_them_exactly(tmp_path):
    """Trained designs (HGQ2 checkpoints) have no seed that draws their weights: the record holds them."""
    import pytest

    from qnas.weights import LayerWeights, ModelWeights

    spec = mlp((8, 4, 2))
    drawn = sample_weights(spec, 3)
    trained = ModelWeights([LayerWeights(-lw.kernel, lw.bias) for lw in drawn])  # not what seed 3 draws
    trained.check(spec)
    truth = SynthesisResult(lut=10, ff=5, dsp=0, bram=0, latency_cycles=3, ii_cycles=1, clock_ns=5, latency_ns=15,
                            part="xcvu13p-flga2577-2-e", producer="yosys 0.23 synth_xilinx")
    path = tmp_path / "gt.jsonl"
    path.write_text(GroundTruthRecord(spec, 3, truth, 2.0, trained_weights=trained).to_json() + "\n")
    (record,) = read_records(path)
    got = record.weights()
    assert all(np.array_equal(a.kernel, b.kernel) and np.array_equal(a.bias, b.bias) for a, b in zip(got, trained))
    assert not np.array_equal(got[0].kernel, drawn[0].kernel)
    # weights that do not fit the spec are refused, naming the line
    data = json.loads(path.read_text())
    data["weights"][0]["kernel"][0][0] = 0.123456789
    path.write_text(json.dumps(data) + "\n")
    with pytest.raises(ValueError, match=r"gt.jsonl:1: not a ground-truth record"):
        read_records(path)
