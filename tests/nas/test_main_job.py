"""The README's main job, ``studies/jet_tagging_offline.yaml`` (distributed arithmetic), run as shipped.

Slow: three trials of real QKeras training on the embedded Pythia 8 jets, through the CLI.
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

MAIN_JOB = Path(__file__).resolve().parents[2] / "studies" / "jet_tagging_offline.yaml"


@pytest.mark.slow
def test_readme_main_job_runs_with_three_trials(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(MAIN_JOB), "--trials", "3", "--out", str(out), "--no-progress"]) == 0
    stdout = capsys.readouterr().out
    assert "Pareto set" in stdout

    table = pd.read_csv(out / "results.csv")
    assert len(table) == 3 and len(pd.read_parquet(out / "results.parquet")) == 3
    for column in ("objective_accuracy", "objective_lut", "objective_latency_ns", "estimator", "architecture"):
        assert column in table.columns

    study = optuna.load_study(study_name="jet-tagging-offline", storage=f"sqlite:///{out / 'study.db'}")
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
