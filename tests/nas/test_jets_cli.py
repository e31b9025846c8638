"""``qnas data``: argument checks and ``info`` on a file (no Pythia run here)."""

import numpy as np
import pandas as pd
import pytest

from qnas.cli import main


def test_make_jets_argument_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["data", "make-jets", "--n-jets", "0", "--out", str(tmp_path / "x.npz")])
    assert "must be a positive integer" in capsys.readouterr().err
    rc = main(["data", "make-jets", "--n-jets", "10", "--out", str(tmp_path / "x.npz"),
               "--pt-min", "900", "--pt-max", "800"])
    assert rc == 2 and "--pt-min/--pt-max" in capsys.readouterr().err
    rc = main(["data", "make-jets", "--n-jets", "10", "--out", str(tmp_path / "x.txt")])
    assert rc == 2 and "--out: unsupported suffix" in capsys.readouterr().err


def test_data_without_subcommand_prints_help(capsys):
    assert main(["data"]) == 2
    assert "make-jets" in capsys.readouterr().out


def test_info_on_a_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50),
                          "class": np.array(["x", "y"])[np.arange(50) % 2]})
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    assert main(["data", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 features" in out and "train/val/test = 30/10/10" in out and "x=15, y=15" in out
    assert main(["data", "info", str(path), "--label", "klass"]) == 2
    assert "label column 'klass' not found" in capsys.readouterr().err


def test_dataset_modules_import_no_heavy_dependency():
    import subprocess
    import sys
    heavy = ("pythia8mc", "fastjet", "h5py", "tensorflow", "plotly")
    code = ("import nas.datasets.jets, nas.datasets.files, nas.datasets.cli, sys\n"
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
