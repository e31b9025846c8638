"""Many workers on one study, for real: separate processes on a real PostgreSQL server.

The server is the tests' own throwaway cluster (see _postgres.py). Without PostgreSQL or
psycopg the server tests skip on a developer machine but FAIL in CI (``CI`` set), where
``.ci/run`` installs both: they must never be skipped silently there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from _postgres import PostgresServer, find_bindir
from _study_helpers import FakeTrainer, small_study
from nas._worker import budget_state, replaced_numbers
from nas.config import StudyConfig
from nas.study import run_study
from qnas.errors import FatalError, ToolNotFound

HERE = Path(__file__).parent
WORKER = HERE / "_fake_worker.py"


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the PostgreSQL worker tests (.ci/run installs postgresql "
                    "and the 'distributed' extra)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg():
    if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is None:
        _unavailable("no PostgreSQL driver (pip install 'qnas[distributed]')")
    bindir = find_bindir()
    if bindir is None:
        _unavailable("PostgreSQL server binaries not found (apt-get install postgresql)")
    server = PostgresServer(bindir).start()
    yield server
    server.close()


_DB = iter(range(10_000))


@pytest.fixture
def pg_url(pg):
    """A fresh database per test on the session's server."""
    return pg.createdb(f"t{os.getpid()}_{next(_DB)}")


def _env() -> dict:
    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_stray_workers():
    """A failed test must not leave its workers running into the next one."""
    yield
    while _STARTED:
        p = _STARTED.pop()
        if p.poll() is None:
            p.kill()
            p.wait()


def _start(tmp_path, storage: str, n_trials: int, index: int, seconds: float = 0.05, **extra) -> subprocess.Popen:
    settings = {"storage": storage, "out": str(tmp_path / "run"), "n_trials": n_trials, "index": index,
                "seconds": seconds, "log": str(tmp_path / "trained.log"), **extra}
    p = subprocess.Popen([sys.executable, str(WORKER), json.dumps(settings)], env=_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _STARTED.append(p)
    return p


def _finish(procs, timeout=600) -> list[tuple[int, str]]:
    out = []
    for p in procs:
        _, err = p.communicate(timeout=timeout)
        out.append((p.returncode, err))
    return out


def _trials(storage: str, name: str = "t"):
    try:
        return optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
    except KeyError:  # the workers have not created the study yet
        return []


def _trained(tmp_path) -> list[str]:
    log = tmp_path / "trained.log"
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []


def _artifacts_present(tmp_path, trial) -> bool:
    root = tmp_path / "run" / trial.user_attrs["artifacts"]
    return all((root / name).exists() for name in ("spec.json", "weights.npz", "estimate.json"))


def test_three_workers_meet_the_budget_exactly_and_train_nothing_twice(tmp_path, pg_url):
    # no worker dies here, so a long grace: on a loaded machine a niced worker's heartbeat thread can
    # miss a few seconds, and a trial declared lost while alive is retried (a 31st trial)
    procs = [_start(tmp_path, pg_url, 30, index, grace=30) for index in range(3)]
    results = _finish(procs)
    assert [code for code, _ in results] == [0, 0, 0], results
    trials = _trials(pg_url)
    assert len(trials) == 30 and budget_state(trials).counted == 30, \
        [(t.number, t.state.name, t.system_attrs.get("retry_history"), t.user_attrs.get("reason", "")[:80])
         for t in trials if t.state != TrialState.COMPLETE]
    assert all(t.state.is_finished() for t in trials)
    trained = _trained(tmp_path)
    assert trained and len(trained) == len(set(trained)), Counter(trained).most_common(3)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert complete and all(_artifacts_present(tmp_path, t) for t in complete)
    # every complete trial either trained its network or took it from the trial that did
    assert len(trained) == sum("weights_from" not in t.user_attrs for t in complete)
    assert len({t.user_attrs["worker"] for t in trials}) >= 2  # the work was really shared
    # export reads the study from the server and finds every design's files where the workers put them
    from hls_backend.study_access import open_finished_study
    found = open_finished_study(pg_url)
    assert found.pareto_numbers() and all(found.artifacts_dir(n).is_dir() for n in found.pareto_numbers())


def _a_training_trial(storage: str, procs, timeout: float = 600):
    """(process, trial) of a worker that is training a candidate right now."""
    pids = {f":{p.pid}": p for p in procs}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for t in _trials(storage):
            worker = t.user_attrs.get("worker", "")
            suffix = worker[worker.rfind(":"):] if worker else ""
            if t.state == TrialState.RUNNING and "network_key" in t.user_attrs and suffix in pids:
                return pids[suffix], t
        time.sleep(0.2)
    raise AssertionError("no worker started training within the timeout")


def _kill_one_worker_mid_trial(tmp_path, storage: str, n_trials: int, n_workers: int, read_storage=None):
    read_storage = read_storage or storage
    procs = [_start(tmp_path, storage, n_trials, index, seconds=1.5) for index in range(n_workers)]
    killed, victim = _a_training_trial(read_storage, procs)
    complete_before = {t.number: t.values for t in _trials(read_storage) if t.state == TrialState.COMPLETE}
    os.kill(killed.pid, signal.SIGKILL)
    others = [p for p in procs if p is not killed]
    results = _finish(others)
    assert [code for code, _ in results] == [0] * len(others), results
    killed.wait()
    return victim, complete_before, {t.number: t for t in _trials(read_storage)}


def test_a_killed_worker_s_trial_is_failed_and_its_candidate_retried(tmp_path, pg_url):
    victim, complete_before, trials = _kill_one_worker_mid_trial(tmp_path, pg_url, 12, 3)
    assert trials[victim.number].state == TrialState.FAIL
    retries = [t for t in trials.values() if victim.number in t.system_attrs.get("retry_history", ())]
    assert len(retries) == 1 and retries[0].params == victim.params and retries[0].state.is_finished()
    state = budget_state(list(trials.values()))
    assert state.counted == 12 and state.running == 0
    assert victim.number in replaced_numbers(list(trials.values()))
    assert {n: trials[n].values for n in complete_before} == complete_before  # no finished trial lost
    assert all(_artifacts_present(tmp_path, t) for t in trials.values() if t.state == TrialState.COMPLETE)


def test_journal_lease_fails_a_killed_worker_s_trial(tmp_path):
    # Optuna keeps no heartbeat in a journal: the lease qnas writes there must do the same job
    from optuna.storages.journal import JournalFileBackend, JournalStorage
    path = tmp_path / "study.log"
    victim, _, trials = _kill_one_worker_mid_trial(tmp_path, f"journal:///{path}", 6, 2,
                                                   JournalStorage(JournalFileBackend(str(path))))
    assert trials[victim.number].state == TrialState.FAIL
    assert any(victim.number in t.system_attrs.get("retry_history", ()) for t in trials.values())
    assert budget_state(list(trials.values())).counted == 6


def test_database_restart_mid_study_then_resume_finishes(tmp_path, pg, pg_url):
    procs = [_start(tmp_path, pg_url, 16, index, seconds=0.4, grace=2) for index in range(2)]
    deadline = time.monotonic() + 600
    while sum(t.state.is_finished() for t in _trials(pg_url)) < 4:
        assert time.monotonic() < deadline, "no progress before the restart"
        time.sleep(0.2)
    pg.restart()
    results = _finish(procs)
    for code, err in results:  # each worker reconnected and finished, or stopped with the fix
        assert code == 0 or ("--resume" in err and "database" in err), err
    config = StudyConfig.from_dict(small_study(n_trials=16))
    run_study(config, storage=pg_url, out=tmp_path / "run", resume=True, trainer=FakeTrainer(), progress=False,
              echo=lambda s: None, heartbeat_s=1, grace_s=2, poll_s=0.3)
    trials = _trials(pg_url)
    state = budget_state(trials)
    assert state.counted == 16 and state.running == 0 and state.waiting == 0
    assert all(_artifacts_present(tmp_path, t) for t in trials if t.state == TrialState.COMPLETE)


def test_a_trial_orphaned_before_its_first_heartbeat_is_failed_and_retried(tmp_path, pg_url):
    # What a database restart can leave (seen in the test above): a worker asked for a trial, then
    # lost the server before the trial's first heartbeat. Optuna only fails trials whose heartbeat
    # row went stale, so without a row this RUNNING trial held a budget slot forever and every
    # worker waited for it.
    _run(tmp_path, pg_url, small_study(n_trials=2))
    orphan = optuna.load_study(study_name="t", storage=pg_url).ask()
    worker = _start(tmp_path, pg_url, 4, 0, grace=2)
    (code, err), = _finish([worker], timeout=300)
    assert code == 0, err
    trials = {t.number: t for t in _trials(pg_url)}
    assert trials[orphan.number].state == TrialState.FAIL
    retry, = [t for t in trials.values() if orphan.number in t.system_attrs.get("retry_history", ())]
    assert retry.state.is_finished()
    state = budget_state(list(trials.values()))
    assert state.counted == 4 and state.running == 0 and state.waiting == 0


def test_resume_while_a_run_is_live_on_postgresql_fails_nothing_live(tmp_path, pg_url):
    live = _start(tmp_path, pg_url, 8, 0, seconds=1.0, join=False)
    _, running = _a_training_trial(pg_url, [live])
    config = StudyConfig.from_dict(small_study(n_trials=8))
    run_study(config, storage=pg_url, out=tmp_path / "run", resume=True, trainer=FakeTrainer(), progress=False,
              echo=lambda s: None, worker_index=5, heartbeat_s=1, grace_s=6, poll_s=0.3)
    (code, err), = _finish([live])
    assert code == 0, err  # the live run was not crashed
    trials = {t.number: t for t in _trials(pg_url)}
    assert trials[running.number].state != TrialState.FAIL  # its trial was not marked failed
    assert not any(t.user_attrs.get("interrupted") for t in trials.values())
    assert budget_state(list(trials.values())).counted == 8 and len(trials) == 8


def test_two_runs_at_once_on_one_sqlite_file_duplicate_nothing(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    first = _start(tmp_path, storage, 10, 0, seconds=0.3, join=False)
    deadline = time.monotonic() + 600
    while not (tmp_path / "trained.log").exists():  # the first run is training
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.1)
    second = _start(tmp_path, storage, 10, 1, seconds=0.3, join=False, resume=True)  # the old crash
    (code1, err1), (code2, err2) = _finish([first, second])
    assert code1 == 0, err1
    assert code2 == 2 and "in use by a live run" in err2 and "postgresql://" in err2, err2
    trials = _trials(storage)
    assert len(trials) == 10 and all(t.state == TrialState.COMPLETE or t.state == TrialState.PRUNED
                                     for t in trials)
    trained = _trained(tmp_path)
    assert len(trained) == len(set(trained))


def test_journal_storage_workers_meet_the_budget(tmp_path):
    storage = f"journal:///{tmp_path / 'study.log'}"
    results = _finish([_start(tmp_path, storage, 12, index) for index in range(2)])
    assert [code for code, _ in results] == [0, 0], results
    from optuna.storages.journal import JournalFileBackend, JournalStorage
    trials = optuna.load_study(study_name="t", storage=JournalStorage(JournalFileBackend(
        str(tmp_path / "study.log")))).get_trials()
    assert len(trials) == 12 and budget_state(trials).counted == 12
    trained = _trained(tmp_path)
    assert len(trained) == len(set(trained))


def _warm_start_folder(tmp_path) -> Path:
    """A 64-8-10 model folder (spec + on-grid weights) whose architecture the study below can draw."""
    import numpy as np

    from _study_helpers import _grid_values
    from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
    from qnas.weights import LayerWeights, ModelWeights
    act = Quantizer.fixed(6, 2, signed=False)
    layers = (DenseLayerSpec("fc0", 8, Quantizer.fixed(8, 0), Quantizer.fixed(8, 3), act),
              DenseLayerSpec("fc1", 10, Quantizer.fixed(8, 0), Quantizer.fixed(8, 3), None))
    spec = ModelSpec(64, Quantizer.fixed(8, 3), layers, strategy="distributed_arithmetic")
    rng = np.random.default_rng(3)
    weights = ModelWeights([LayerWeights(_grid_values(l.weight, (n_in, l.units), rng),
                                         _grid_values(l.bias, (l.units,), rng)) for l, n_in, _ in spec.layer_inputs()])
    folder = tmp_path / "imported" / "ref"
    folder.mkdir(parents=True)
    (folder / "spec.json").write_text(spec.to_json())
    weights.save(folder / "weights.npz")
    return folder


def _holds_open(pid: int, path: Path) -> bool:
    try:
        return any(os.path.realpath(fd.path) == str(path) for fd in os.scandir(f"/proc/{pid}/fd"))
    except OSError:  # the process is gone, or a descriptor closed while we read
        return False


def test_two_workers_starting_together_enqueue_the_warm_start_once(tmp_path):
    # Both workers start on a fresh study while this test holds the study's claim lock. The
    # "study still empty?" check and the enqueue must be one step under that lock: outside it, two
    # workers starting together can both pass the check before either enqueues, and the warm start
    # is trained twice on two budget slots. So nothing may be enqueued while the lock is held, and
    # once it is released exactly one warm-start trial exists.
    journal = tmp_path / "study.log"
    claim = Path(str(journal) + ".claim")
    space = {"family": "mlp", "depth": [1, 2], "width": [4, 8, 16], "weight_bits": [8, 4], "weight_integer": [0],
             "bias_bits": [8], "bias_integer": [3], "activation_bits": [6], "activation_integer": [2],
             "input_bits": [8], "input_integer": [3], "reuse_factor": [1, 2, 4]}
    folder = _warm_start_folder(tmp_path)
    study = {"search_space": space, "warm_start": [str(folder)]}
    with open(claim, "a") as held:
        import fcntl
        fcntl.flock(held, fcntl.LOCK_EX)
        procs = [_start(tmp_path, f"journal:///{journal}", 4, index, study=study) for index in range(2)]
        deadline = time.monotonic() + 600
        while not all(_holds_open(p.pid, claim.resolve()) for p in procs):  # each is at the claim lock now
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), \
                [p.communicate() for p in procs if p.poll() is not None]
            time.sleep(0.1)
        from optuna.storages.journal import JournalFileBackend, JournalStorage
        storage = JournalStorage(JournalFileBackend(str(journal)))
        assert _trials(storage) == []  # nobody enqueued while the lock was held: the enqueue goes through it
        fcntl.flock(held, fcntl.LOCK_UN)
    results = _finish(procs)
    assert [code for code, _ in results] == [0, 0], results
    trials = optuna.load_study(study_name="t", storage=JournalStorage(JournalFileBackend(str(journal)))).get_trials()
    warm = [t for t in trials if "warm_start" in t.user_attrs]
    assert len(warm) == 1 and warm[0].user_attrs["warm_start"] == str(folder.resolve()), \
        [(t.number, t.user_attrs.get("warm_start")) for t in trials]
    assert warm[0].number == 0 and warm[0].params["depth"] == 1 and warm[0].params["dense_0/units"] == 8, warm[0].params
    assert budget_state(trials).counted == 4
    trained = _trained(tmp_path)
    assert len(trained) == len(set(trained))


# ---- bad input: one clear message each, nothing written ----------------------------------------

def _run(tmp_path, storage, data=None, **kwargs):
    config = StudyConfig.from_dict(data or small_study(n_trials=2))
    return run_study(config, storage=storage, out=tmp_path / "run", trainer=FakeTrainer(), progress=False,
                     echo=lambda s: None, **kwargs)


@pytest.mark.parametrize("url, expected", [
    ("postgres://u@localhost/db", "did you mean 'postgresql://u@localhost/db'"),
    ("postgress://u@localhost/db", "did you mean 'postgresql://u@localhost/db'"),
    ("sqlite://runs/x.db", "did you mean 'sqlite:///runs/x.db'"),
    ("mongodb://localhost/db", "unknown scheme 'mongodb://'; use one of: sqlite:///"),
    ("runs/x.db", "has no scheme"),
    ("postgresql://localhost", "names no database"),
])
def test_storage_url_typos_are_named_with_the_fix(tmp_path, url, expected):
    with pytest.raises(FatalError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        _run(tmp_path, url)
    assert not (tmp_path / "run").exists()


def test_missing_database_driver_names_the_install(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",  # as on a machine without MySQL drivers
                        lambda name, *a: None if name in ("pymysql", "MySQLdb") else real(name, *a))
    with pytest.raises(ToolNotFound, match="pip install pymysql"):
        _run(tmp_path, "mysql://u:p@localhost/qnas")


def test_unreachable_database_is_named_and_nothing_written(tmp_path, pg):
    from _postgres import free_port
    url = f"postgresql://qnas:x@127.0.0.1:{free_port()}/qnas"
    with pytest.raises(FatalError, match="cannot reach the database server of postgresql://qnas:\\*\\*\\*@127"):
        _run(tmp_path, url)
    assert not (tmp_path / "run").exists()


def test_wrong_credentials_and_missing_database(tmp_path, pg):
    with pytest.raises(FatalError, match="refused user 'qnas'.*Fix the user and password"):
        _run(tmp_path, pg.url(password="wrong"))
    with pytest.raises(FatalError, match="no database 'nosuchdb'.*createdb nosuchdb"):
        _run(tmp_path, pg.url(database="nosuchdb"))
    assert not (tmp_path / "run").exists()


def test_worker_with_another_study_file_is_refused(tmp_path, pg_url):
    _run(tmp_path, pg_url)
    before = len(_trials(pg_url))
    other_space = small_study(n_trials=2, search_space={"family": "mlp", "depth": [1], "width": [4, 8],
                                                        "weight_bits": [8], "reuse_factor": [1]})
    with pytest.raises(FatalError, match="search_space=.*Start the worker with the study's own file"):
        _run(tmp_path, pg_url, other_space, join=True)
    with pytest.raises(FatalError, match="objectives=.*not be comparable"):
        _run(tmp_path, pg_url, small_study(n_trials=2, objectives=["accuracy", "ff"]), join=True)
    assert len(_trials(pg_url)) == before


def test_workers_flag_refuses_sqlite_with_the_fix(tmp_path):
    study = tmp_path / "s.yaml"
    import yaml
    study.write_text(yaml.safe_dump(small_study()))
    result = subprocess.run([sys.executable, "-m", "qnas.cli", "run", str(study), "--workers", "2",
                             "--storage", f"sqlite:///{tmp_path / 'run' / 'x.db'}",
                             "--out", str(tmp_path / "run")], env=_env(), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert "needs a storage several processes can share" in result.stderr and "journal:///" in result.stderr
    assert not (tmp_path / "run").exists()
