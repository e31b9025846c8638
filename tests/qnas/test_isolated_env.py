"""qnas.isolated_env: environment identity, atomic creation, the file/subprocess job protocol."""

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from qnas import isolated_env as ie
from qnas.cli import main


@pytest.fixture
def fake_env(tmp_path):
    """An 'environment' whose bin/python is this interpreter (for the job protocol only)."""
    (tmp_path / "env" / "bin").mkdir(parents=True)
    (tmp_path / "env" / "bin" / "python").symlink_to(sys.executable)
    return ie.IsolatedEnv(tmp_path / "env", ie.Toolset("fake", ("x==1",), ("json",)))


def test_key_follows_pins_and_python():
    a = ie.Toolset("t", ("a==1", "b==2"), ())
    assert a.key("3.11") == ie.Toolset("t", ("b==2", "a==1"), ()).key("3.11")  # order does not matter
    assert a.key("3.11") != ie.Toolset("t", ("a==1", "b==3"), ()).key("3.11")
    assert a.key("3.11") != a.key("3.12")
    assert a.dirname.startswith("t-") and len(a.dirname) == 2 + 12


def test_env_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv(ie.ENV_DIR_VAR, str(tmp_path / "fromvar"))
    assert ie.env_root() == tmp_path / "fromvar"
    assert ie.env_root(tmp_path / "given") == tmp_path / "given"
    monkeypatch.delenv(ie.ENV_DIR_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert ie.env_root() == tmp_path / "cache" / "qnas" / "envs"


def test_find_env_trusts_only_a_matching_marker(tmp_path):
    ts = ie.TOOLSETS["hgq2"]
    path = tmp_path / ts.dirname
    (path / "bin").mkdir(parents=True)
    (path / "bin" / "python").touch()
    assert ie.find_env("hgq2", tmp_path) is None  # no marker: half made
    (path / ie.MARKER).write_text(json.dumps({"pins": ["hgq2==0.1.0"]}))
    assert ie.find_env("hgq2", tmp_path) is None  # other pins
    (path / ie.MARKER).write_text(json.dumps({"pins": list(ts.pins)}))
    assert ie.find_env("hgq2", tmp_path).python == path / "bin" / "python"


def test_unknown_toolset_lists_the_known_ones():
    with pytest.raises(ie.EnvSetupError, match="known: hgq2"):
        ie.find_env("hgq3")


def test_failed_creation_leaves_nothing_and_quotes_pip(tmp_path, monkeypatch):
    bad = ie.Toolset("broken", ("qnas-test-package-that-is-not-there==9.9",), ("json",))
    monkeypatch.setitem(ie.TOOLSETS, "broken", bad)
    with pytest.raises(ie.EnvSetupError) as err:
        ie.ensure_env("broken", tmp_path, progress=False, echo=lambda _: None,
                      pip_args=("--no-index", "--find-links", str(tmp_path)))
    msg = str(err.value)
    assert "pip install failed" in msg and "Fix:" in msg and "qnas-test-package-that-is-not-there" in msg
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [".broken.lock", f"{bad.dirname}.log"]  # the log stays for diagnosis; no env
    assert ie.find_env("broken", tmp_path) is None


def test_run_job_exchanges_json_and_npz(tmp_path, fake_env):
    script = tmp_path / "double.py"
    script.write_text(textwrap.dedent("""
        import json, sys, os
        from pathlib import Path
        import numpy as np
        job = Path(sys.argv[1])
        req = json.loads((job / "request.json").read_text())
        x = np.load(job / "data.npz")["x"]
        print("working", file=sys.stderr)
        np.save(job / "out.npy", x * req["factor"])
        (job / "result.json").write_text(json.dumps({"sum": float((x * req["factor"]).sum()),
                                                      "pythonpath": os.environ.get("PYTHONPATH")}))
    """))
    lines = []
    result = ie.run_job(fake_env, script, tmp_path / "job", {"factor": 3}, {"x": np.arange(4.0)}, echo=lines.append)
    assert result["sum"] == 18.0
    assert result["pythonpath"] is None  # qnas's own path never leaks into the environment
    assert lines == ["working"]
    assert np.array_equal(np.load(tmp_path / "job" / "out.npy"), np.arange(4.0) * 3)


def test_run_job_failure_quotes_stderr(tmp_path, fake_env):
    script = tmp_path / "boom.py"
    script.write_text("import sys\nprint('something specific broke', file=sys.stderr)\nsys.exit(3)\n")
    with pytest.raises(ie.JobFailed, match="(?s)exit 3.*something specific broke"):
        ie.run_job(fake_env, script, tmp_path / "job", {})


def test_run_job_timeout_stops_the_child(tmp_path, fake_env):
    script = tmp_path / "hang.py"
    script.write_text("import os, sys, time\nfrom pathlib import Path\n"
                      "Path(sys.argv[1], 'pid').write_text(str(os.getpid()))\ntime.sleep(60)\n")
    start = time.monotonic()
    with pytest.raises(ie.JobFailed, match="exceeded its 1 s limit"):
        ie.run_job(fake_env, script, tmp_path / "job", {}, timeout_s=1)
    assert time.monotonic() - start < 20
    pid = int((tmp_path / "job" / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_cli_list(capsys, tmp_path):
    assert main(["env", "--list", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "hgq2==0.2.0" in out and "not created" in out


def _tiny_wheel(tmp_path):
    """A one-module wheel written by hand (no build backend, no index needed)."""
    import zipfile
    path = tmp_path / "tinypkg-1.0-py3-none-any.whl"
    info = "tinypkg-1.0.dist-info"
    files = {"tinypkg.py": "VALUE = 42\n",
             f"{info}/METADATA": "Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: qnas-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


@pytest.mark.slow
def test_creates_a_tiny_env_atomically_and_reuses_it(tmp_path, monkeypatch):
    wheel = _tiny_wheel(tmp_path)
    ts = ie.Toolset("tiny", (str(wheel),), ("tinypkg",))
    monkeypatch.setitem(ie.TOOLSETS, "tiny", ts)
    root = tmp_path / "envs"
    said = []
    env = ie.ensure_env("tiny", root, progress=False, echo=said.append,
                        pip_args=("--no-index",))
    assert env.path == root / ts.dirname and (env.path / ie.MARKER).exists()
    assert not any(p.name.endswith(".partial") for p in root.iterdir())
    assert any("[3/3]" in s for s in said)
    script = tmp_path / "read.py"
    script.write_text("import json, sys, tinypkg\nfrom pathlib import Path\n"
                      "Path(sys.argv[1], 'result.json').write_text(json.dumps({'v': tinypkg.VALUE, "
                      "'prefix': sys.prefix}))\n")
    res = ie.run_job(env, script, tmp_path / "job", {})
    assert res["v"] == 42 and Path(res["prefix"]) == env.path  # the renamed venv is the one running
    again = []
    assert ie.ensure_env("tiny", root, echo=again.append) == env and again == []  # reused, not rebuilt


def test_sigterm_to_the_caller_stops_the_job(tmp_path):
    """A study killed with SIGTERM (a background run) must not leave its job running."""
    import signal
    import subprocess
    script = tmp_path / "hang.py"
    script.write_text("import os, sys, time\nfrom pathlib import Path\n"
                      "Path(sys.argv[1], 'pid').write_text(str(os.getpid()))\ntime.sleep(120)\n")
    (tmp_path / "env" / "bin").mkdir(parents=True)
    (tmp_path / "env" / "bin" / "python").symlink_to(sys.executable)
    caller = ("import sys\nfrom pathlib import Path\nfrom qnas import isolated_env as ie\n"
              f"env = ie.IsolatedEnv(Path({str(tmp_path / 'env')!r}), ie.Toolset('fake', ('x==1',), ()))\n"
              f"ie.run_job(env, {str(script)!r}, {str(tmp_path / 'job')!r}, {{}})\n")
    proc = subprocess.Popen([sys.executable, "-c", caller], env={**os.environ, "PYTHONPATH": str(Path(ie.__file__).parents[1])})
    pid_file = tmp_path / "job" / "pid"
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    child = int(pid_file.read_text())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 128 + signal.SIGTERM
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
