"""Test options: slow (training / synthesis) tests run only on request; CI fails on surprise skips.

``pytest`` runs the lean default suite; ``pytest --run-slow`` (or QNAS_FULL_TESTS=1) the
full one. Under CI (``CI=true``) a skipped test fails the run unless its reason matches
:data:`CI_ALLOWED_SKIPS`: a missing or broken tool on the CI machine must be seen, not
hidden as a skip (``--allow-skips`` turns the guard off).
"""

import os
from typing import Callable

import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "shared"))


#: skip reasons CI accepts (substrings); everything else a CI machine is expected to have
CI_ALLOWED_SKIPS: tuple[str, ...] = (
    "vendor tools",  # Vivado/Vitis are never installed in CI (licensed)
)


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run tests marked slow (training, synthesis)")
    parser.addoption("--allow-skips", action="store_true", default=False,
                     help="under CI=true, do not fail the run on skips outside CI_ALLOWED_SKIPS")


def _in_ci(config) -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") and not config.getoption("--allow-skips")


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def unexpected_skip(reason: str, slow_deselected: bool) -> bool:
    """Whether CI must fail on a skip with this reason (slow tests left out on request are fine)."""
    return not slow_deselected and not any(allowed in reason for allowed in CI_ALLOWED_SKIPS)


_SLOW_REASON = "slow: run with --run-slow or QNAS_FULL_TESTS=1"
_unexpected: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report)
        if unexpected_skip(reason, _SLOW_REASON in reason):
            _unexpected.append(f"{report.nodeid}: {reason}")


def pytest_collectreport(report):
    if report.skipped:
        reason = _skip_reason(report)
        if unexpected_skip(reason, False):
            _unexpected.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session, exitstatus):
    if _in_ci(session.config) and _unexpected and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _in_ci(config) and _unexpected:
        terminalreporter.section("unexpected skips (CI=true fails on these)", red=True)
        for line in _unexpected:
            terminalreporter.line(line)
        terminalreporter.line("Install what they need on the CI machine, or add the reason to "
                              "CI_ALLOWED_SKIPS in tests/conftest.py if it can never be there.")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow") or os.environ.get("QNAS_FULL_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason=_SLOW_REASON)
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_dir():
    """The read-only ../shared folder (fixtures); skip when the checkout has none beside it."""
    path = os.environ.get("QNAS_SHARED", SHARED)
    if not os.path.isdir(path):
        pytest.skip(f"shared fixtures not found at {path}")
    return path


@pytest.fixture
def require_tool() -> Callable:
    """``require_tool(find_yosys)``: the tool, or a skip when it is not installed (never in CI).

    Only :class:`~qnas.errors.ToolNotFound` (absent) may skip; a broken install
    (:class:`~qnas.errors.ToolBroken`) fails the test everywhere.
    """
    from qnas.errors import ToolNotFound

    def find(finder):
        try:
            return finder()
        except ToolNotFound as exc:
            pytest.skip(f"tool not installed: {exc}")

    return find
