"""The jet-tagging studies the README names, run through the CLI on the embedded Pythia 8 jets.

Slow. ``studies/jet_tagging_qkeras.yaml`` (QKeras, distributed arithmetic) runs as shipped with
three trials. The main job, ``studies/jet_tagging_offline.yaml`` (HGQ2 learns the bit widths),
takes ~30 minutes as shipped (three 1,200-epoch trainings), so its test runs the shipped file
with only the training length cut (``recipe.epochs``/``beta_hold_epochs``) and one training:
everything else (family, space, budget, workers, objectives) is the file's own.
"""

from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from nas.study import pareto_trial_numbers
from qnas.artifacts import TrialArtifacts
from qnas.cli import main
from qnas.spec import ModelSpec

STUDIES = Path(__file__).resolve().parents[2] / "studies"
MAIN_JOB = STUDIES / "jet_tagging_offline.yaml"
QKERAS_JOB = STUDIES / "jet_tagging_qkeras.yaml"


@pytest.mark.slow
def test_qkeras_jet_study_runs_with_three_trials(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(QKERAS_JOB), "--trials", "3", "--out", str(out), "--no-progress"]) == 0
    stdout = capsys.readouterr().out
    assert "Pareto set" in stdout

    table = pd.read_csv(out / "results.csv")
    assert len(table) == 3 and len(pd.read_parquet(out / "results.parquet")) == 3
    for column in ("objective_accuracy", "objective_lut", "objective_latency_ns", "estimator", "architecture"):
        assert column in table.columns

    study = optuna.load_study(study_name="jet-tagging-qkeras", storage=f"sqlite:///{out / 'study.db'}")
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert complete, table[["state", "reason"]].to_string()
    for t in complete:
        art = TrialArtifacts(out / t.user_attrs["artifacts"])
        assert art.exists() and art.test_vectors.exists() and art.estimate.exists()
        spec = ModelSpec.from_json(art.spec.read_text())
        assert spec.strategy == "distributed_arithmetic" and spec.n_inputs == 16 and spec.n_outputs == 5
        assert all(layer.reuse_factor == 1 for layer in spec.layers)
        assert t.user_attrs["estimate"]["producer"].startswith("qnas.da.")
        assert 0.2 < t.user_attrs["metrics_val"]["accuracy"] <= 1.0  # 5 classes: chance is 0.2

    pareto = pareto_trial_numbers(study)
    assert pareto and set(pareto) <= {t.number for t in complete}
    pareto_lines = stdout.split("Pareto set", 1)[1]
    for number in pareto:
        assert str(number) in pareto_lines


@pytest.mark.slow
def test_readme_main_job_trains_with_hgq2_and_records_every_checkpoint(tmp_path, capsys):
    import yaml

    from hls_backend.study_access import open_finished_study

    data = yaml.safe_load(MAIN_JOB.read_text())
    assert data["search_space"]["family"] == "hgq2_mlp" and data["name"] == "jet-tagging-offline"
    assert data["search_space"]["recipe"]["epochs"] >= 1200  # the shipped recipe is HGQ2's full one
    data["search_space"]["recipe"].update(epochs=40, beta_hold_epochs=5, max_checkpoints=4)
    study_file = tmp_path / "main_job_short.yaml"
    study_file.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    assert main(["run", str(study_file), "--trials", "1", "--workers", "1", "--out", str(out),
                 "--no-progress"]) == 0
    assert "Pareto set" in capsys.readouterr().out
    study = open_finished_study(str(out)).study
    trials = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    asked = [t for t in trials if "checkpoint_of" not in t.user_attrs]
    assert len(asked) == 1 and 1 <= len(trials) <= 4
    for t in trials:
        art = TrialArtifacts(out / t.user_attrs["artifacts"])
        assert art.exists() and art.trainer == "hgq2"
        spec = ModelSpec.from_json(art.spec.read_text())
        assert spec.heterogeneous and spec.strategy == "distributed_arithmetic"
        assert t.user_attrs["estimate"]["producer"].startswith("qnas.da.")  # priced with its trained weights
        assert 0.2 < t.user_attrs["metrics_test"]["accuracy"] <= 1.0
