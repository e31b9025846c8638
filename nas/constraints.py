"""The FPGA budget as Optuna constraints, and the estimator check that runs before training.

Optuna 5 reads constraints from ``trial.set_constraint(key, value)`` (``<= 0`` satisfied;
the samplers' ``constraints_func`` is deprecated). NSGA-II ranks feasible trials first and
infeasible ones by total violation; TPE puts infeasible trials (including pruned ones that
carry constraints) among the "bad" observations, so both samplers learn where the budget
is. Every constraint a trial gets is written here and nowhere else, once per trial (Optuna
ignores a second value for the same key).
"""

from __future__ import annotations

from typing import Any

import estimators
from estimators.budget import Budget
from qnas.errors import InfeasibleCandidate
from qnas.results import ResourceEstimate, ResourceReport
from qnas.spec import ModelSpec
from qnas.weights import ModelWeights

__all__ = ["BudgetRejection", "estimate_for_budget", "estimate_summary", "precheck", "record_constraints"]


class BudgetRejection(InfeasibleCandidate):
    """The estimator shows, before training, that the candidate cannot fit the budget."""

    def __init__(self, reason: str, estimate: ResourceEstimate, violated: tuple[str, ...]):
        super().__init__(reason)
        self.estimate = estimate
        self.violated = violated


def record_constraints(trial, budget: Budget, report: ResourceReport) -> dict[str, float]:
    """Record every budget constraint of ``report`` on ``trial``; return the values."""
    values = budget.constraints(report)
    for key, value in values.items():
        trial.set_constraint(key, float(value))
    return values


def estimate_for_budget(spec: ModelSpec, budget: Budget, weights: ModelWeights | None = None
                        ) -> ResourceEstimate:
    """The one estimator call of the driver: on the budget's part and clock."""
    return estimators.estimate(spec, weights=weights, part=budget.part.name, clock_ns=budget.clock_ns)


def precheck(trial, spec: ModelSpec, budget: Budget) -> ResourceEstimate:
    """Estimate before training; raise :class:`BudgetRejection` if it cannot fit.

    On rejection the constraint values are recorded on the trial (so the sampler learns
    from it) and the reason names every violated limit. Costs milliseconds.
    """
    est = estimate_for_budget(spec, budget)
    violations = budget.violations(est)
    if violations:
        values = record_constraints(trial, budget, est)
        violated = tuple(k for k, v in values.items() if v > 0)
        raise BudgetRejection(f"over budget before training ({est.producer}): " + "; ".join(violations),
                              est, violated)
    return est


def estimate_summary(report: ResourceReport, stage: str) -> dict[str, Any]:
    """The estimate fields kept in a trial's user attributes (JSON-serialisable, small)."""
    return {
        "stage": stage, "producer": report.producer, "tool_version": report.tool_version,
        "part": report.part, "clock_ns": report.clock_ns,
        "lut": float(report.lut), "ff": float(report.ff), "dsp": float(report.dsp),
        "bram": float(report.bram), "latency_cycles": int(report.latency_cycles),
        "ii_cycles": int(report.ii_cycles), "latency_ns": float(report.latency_ns),
        "in_calibrated_range": report.in_calibrated_range,
    }
