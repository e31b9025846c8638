"""Reading a run for the dashboards: categories, the Pareto set, budget limits, read-only access."""

import hashlib
import json

import optuna
import pytest

from nas.study import pareto_trial_numbers
from qnas.errors import ConfigError, FatalError
from qnas.references import load_reference_file, parse_references
from studies.dashboard.data import NotARun, RunSource, SeveralStudies, load_run, resolve_target


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_categories_pareto_and_limits_match_the_study(mixed_run):
    run = load_run(str(mixed_run))
    study = optuna.load_study(study_name="t", storage=f"sqlite:///{mixed_run / 'study.db'}")
    assert run.pareto == pareto_trial_numbers(study) and run.pareto
    by_cat = {c: {r["number"] for r in run.rows if r["category"] == c} for c in ("pareto", "rejected", "dominated")}
    assert by_cat["pareto"] == set(run.pareto)
    assert by_cat["rejected"] == {t.number for t in study.trials if t.state.name == "PRUNED"}
    assert by_cat["rejected"] and by_cat["dominated"]
    # the LUT limit comes back from the constraint values: 0.6 % of a VU13P
    from estimators import get_part
    assert run.limits["lut"] == pytest.approx(0.006 * get_part("xcvu13p").totals["lut"])
    row = run.row(run.pareto[0])
    assert row["layers"][0]["units"] == json.loads(row["spec"])["layers"][0]["units"]
    assert "reuse_factor" in row["layers"][0]


def test_the_dashboards_never_write_the_storage(mixed_run):
    db = mixed_run / "study.db"
    before = _digest(db)
    source = RunSource(str(mixed_run))
    source.load()
    with pytest.raises(optuna.exceptions.StorageInternalError) as info:
        source.study.set_user_attr("x", 1)
    assert "readonly database" in str(info.value.__cause__)
    assert _digest(db) == before


def test_paths_that_are_not_runs_are_explained(tmp_path, mixed_run):
    with pytest.raises(NotARun, match="does not exist"):
        resolve_target(str(tmp_path / "nope"))
    with pytest.raises(NotARun, match="folder without study.db.*expects a run directory"):
        resolve_target(str(tmp_path))
    (tmp_path / "s.yaml").write_text("name: x\n")
    with pytest.raises(NotARun, match="is a study file; run it with `qnas run"):
        resolve_target(str(tmp_path / "s.yaml"))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(NotARun, match="not an SQLite database"):
        resolve_target(str(tmp_path / "notes.txt"))
    bundle = tmp_path / "trial_00003"
    bundle.mkdir()
    (bundle / "manifest.json").write_text("{}")
    with pytest.raises(NotARun, match="firmware bundle"):
        resolve_target(str(bundle))
    assert resolve_target(str(mixed_run / "study.db")).url.endswith("study.db")


def test_a_storage_with_several_studies_lists_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'multi.db'}"
    for name in ("alpha", "beta"):
        optuna.create_study(study_name=name, storage=url, directions=["maximize", "minimize"])
    with pytest.raises(SeveralStudies) as info:
        load_run(url)
    assert info.value.names == ["alpha", "beta"]
    run = load_run(url, "beta")  # not a qnas study, and empty: still loads
    assert run.rows == [] and run.pareto == [] and "not written by `qnas run`" in run.notes[0]
    with pytest.raises(FatalError, match="no study 'gamma'.*alpha, beta"):
        load_run(url, "gamma")


def test_peer_fronts_are_read_defensively(tmp_path):
    path = tmp_path / "peers.json"
    path.write_text(json.dumps({"fronts": {
        "hls4ml-manual": {"points": [{"test_accuracy": 0.72, "lut": 30000, "ff": 5000, "cycles": 9,
                                      "spec": "16-64-32-32-5"}, {"spec": "no numbers"}, "junk"]},
        "empty": {"points": []}, "odd": 3}}))
    designs, notes = load_reference_file(path)
    assert [(d.group, d.metrics["accuracy"], d.resources["lut"], d.resources["latency_cycles"]) for d in designs] \
        == [("hls4ml-manual", 0.72, 30000.0, 9.0)]
    assert any("'empty'" in n for n in notes) and any("'odd'" in n for n in notes)
    missing, notes = load_reference_file(tmp_path / "absent.json")
    assert missing == [] and "not found" in notes[0]


def test_reference_entries_are_validated_with_the_key_named():
    with pytest.raises(ConfigError, match=r"references\[0\].metric: unknown key; did you mean .metrics."):
        parse_references([{"name": "x", "metric": {}}])
    with pytest.raises(ConfigError, match=r"references\[0\].*needs a spec"):
        parse_references([{"name": "x", "metrics": {"accuracy": 0.7}}])
    (design,) = parse_references([{"name": "tagger", "spec": {"widths": [16, 64, 5], "weight_bits": 6},
                                   "metrics": {"accuracy": 0.7}}])
    assert design.spec.widths == (16, 64, 5) and design.spec.layers[0].weight.bits == 6
