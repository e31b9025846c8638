"""Physics sanity of the L1 anomaly sample and the cut-based triggers an autoencoder must beat.

    python benchmarks/anomaly_physics.py                         # the committed sample
    python benchmarks/anomaly_physics.py --run runs/anomaly-offline   # + the study's designs

Per process: event counts, median/90th percentile of MET, HT (scalar sum of L1 jet pT), leading
e/gamma and muon pT, mean object multiplicities. Then, on the study's test split (the same
seeded split the ``anomaly-l1`` loader makes), the efficiency of simple single-variable
triggers -- MET > x, HT > x, leading-lepton pT > x, and their per-signal best -- at the
study's background acceptance (``--rate-khz``, 40 kHz by default = 1e-3 of 40 MHz), with the
same threshold rule as the search's metric (:func:`nas.metrics.efficiency_at_acceptance`).
With ``--run``, the test-split efficiencies of the study's feasible designs are added, with the
number of signals on which the best (highest mean) design beats every cut.

Checks (exit code 1 if one fails): W events have more MET than QCD, ttbar has the most jets and
the highest HT of the background, A->4l has the most leptons, every signal differs from the
background in at least one variable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nas.datasets.anomaly import INPUT_NAMES, SIGNALS, dequantize, embedded_path, read_l1  # noqa: E402
from nas.datasets.anomaly.embedded import BUNCH_CROSSING_KHZ, FIELDS, split_events  # noqa: E402
from nas.metrics import efficiency_at_acceptance  # noqa: E402
from qnas.validation import validate_section  # noqa: E402

BACKGROUND = ("w", "qcd", "z", "ttbar")


def event_variables(l1: np.ndarray) -> dict[str, np.ndarray]:
    """Per-event trigger variables from the L1 integers (physical units)."""
    x = dequantize(l1)
    col = {name: i for i, name in enumerate(INPUT_NAMES)}
    eg_pt = x[:, [col[f"egamma{i}_pt"] for i in range(4)]]
    mu_pt = x[:, [col[f"muon{i}_pt"] for i in range(4)]]
    jet_pt = x[:, [col[f"jet{i}_pt"] for i in range(10)]]
    return {"met": x[:, col["met_pt"]], "ht": jet_pt.sum(axis=1),
            "lead_lepton_pt": np.maximum(eg_pt[:, 0], mu_pt[:, 0]),
            "lead_egamma_pt": eg_pt[:, 0], "lead_muon_pt": mu_pt[:, 0],
            "n_egamma": (eg_pt > 0).sum(axis=1), "n_muon": (mu_pt > 0).sum(axis=1),
            "n_jet": (jet_pt > 0).sum(axis=1)}


def per_process(process: np.ndarray, var: dict[str, np.ndarray]) -> dict[str, dict]:
    out = {}
    for p in BACKGROUND + tuple(SIGNALS):
        m = process == p
        if not m.any():
            continue
        row = {"events": int(m.sum())}
        for k in ("met", "ht", "lead_egamma_pt", "lead_muon_pt"):
            row[f"{k}_median"] = round(float(np.median(var[k][m])), 2)
            row[f"{k}_p90"] = round(float(np.percentile(var[k][m], 90)), 2)
        for k in ("n_egamma", "n_muon", "n_jet"):
            row[f"{k}_mean"] = round(float(var[k][m].mean()), 3)
        row["n_lepton_mean"] = round(row["n_egamma_mean"] + row["n_muon_mean"], 3)
        out[p] = row
    return out


def cut_triggers(process: np.ndarray, var: dict[str, np.ndarray], rows: np.ndarray, labels: np.ndarray,
                 signals: tuple[str, ...], acceptance: float) -> dict[str, dict]:
    """{cut: {signal: efficiency, ..., 'threshold', 'bg_acceptance'}} on one split."""
    bg = rows[labels == 0]
    out = {}
    for cut in ("met", "ht", "lead_lepton_pt"):
        row = {}
        for k, s in enumerate(signals, start=1):
            eff, achieved, thr = efficiency_at_acceptance(var[cut][bg], var[cut][rows[labels == k]], acceptance)
            row[s] = round(eff, 5)
        row["threshold_gev"], row["bg_acceptance"] = round(thr, 2), achieved
        out[cut] = row
    out["best_cut"] = {s: max(out[c][s] for c in ("met", "ht", "lead_lepton_pt")) for s in signals}
    return out


def physics_checks(summary: dict[str, dict]) -> dict[str, bool]:
    bg = {p: summary[p] for p in BACKGROUND if p in summary}
    checks = {
        "w_met_above_qcd": summary["w"]["met_median"] > summary["qcd"]["met_median"],
        "ttbar_most_jets_and_ht": all(summary["ttbar"]["n_jet_mean"] >= r["n_jet_mean"] and
                                      summary["ttbar"]["ht_median"] >= r["ht_median"] for r in bg.values()),
        "a4l_most_leptons": all(summary["A4l"]["n_lepton_mean"] >= r["n_lepton_mean"] for r in summary.values()),
    }
    return checks


def study_designs(run: Path, signals: tuple[str, ...]) -> list[dict]:
    """Feasible completed designs of a study run with their test-split efficiencies."""
    import optuna
    storage = optuna.storages.RDBStorage(f"sqlite:///{run / 'study.db'}")
    names = optuna.get_all_study_names(storage)
    study = optuna.load_study(study_name=names[0], storage=storage)
    out = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        if any(v > 0 for v in (t.constraints or {}).values() if v is not None):
            continue
        test = t.user_attrs.get("metrics_test", {})
        if "signal_eff" not in test:
            continue
        est = t.user_attrs.get("estimate", {})
        out.append({"trial": t.number, "architecture": t.user_attrs.get("architecture"),
                    "lut": est.get("lut"), "latency_ns": est.get("latency_ns"),
                    "val_signal_eff": t.user_attrs.get("metrics_val", {}).get("signal_eff"),
                    "test": {s: test.get(f"eff_{s}") for s in signals} | {"mean": test["signal_eff"]}})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="a make-anomaly .npz (default: the committed one)")
    ap.add_argument("--rate-khz", type=float, default=40.0)
    ap.add_argument("--seed", type=int, default=0, help="the study's seed (its split)")
    ap.add_argument("--run", type=Path, default=None, help="a finished anomaly study run directory")
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/anomaly_physics.json"))
    args = ap.parse_args(argv)
    path = args.data or embedded_path()
    l1, process, sidecar = read_l1(path)
    var = event_variables(l1)
    summary = per_process(process, var)
    opts = validate_section({"rate_khz": args.rate_khz}, FIELDS, "options")
    acceptance = args.rate_khz / BUNCH_CROSSING_KHZ
    splits = split_events(process, opts, args.seed)
    rows, labels = splits["test"]
    cuts = cut_triggers(process, var, rows, labels, opts["signals"], acceptance)
    checks = physics_checks(summary)
    result = {"data": str(path), "command": sidecar.get("command"), "rate_khz": args.rate_khz,
              "background_acceptance": acceptance, "test_background_events": int((labels == 0).sum()),
              "test_signal_events": {s: int((labels == k).sum()) for k, s in enumerate(opts["signals"], 1)},
              "per_process": summary, "cut_triggers_test": cuts, "checks": checks}
    if args.run is not None:
        designs = study_designs(args.run, opts["signals"])
        result["study_run"] = str(args.run)
        result["study_designs_test"] = designs
        if designs:
            best = max(designs, key=lambda d: d["val_signal_eff"] or -1)
            beats = [s for s in opts["signals"] if (best["test"][s] or 0) > cuts["best_cut"][s]]
            result["best_design_by_val"] = best
            result["best_design_beats_every_cut_on"] = beats
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    for p, r in summary.items():
        print(f"{p:9s} n={r['events']:6d} MET med {r['met_median']:6.1f}  HT med {r['ht_median']:6.1f}  "
              f"jets {r['n_jet_mean']:.2f}  e/g {r['n_egamma_mean']:.2f}  mu {r['n_muon_mean']:.2f}")
    print(f"cut triggers at {args.rate_khz:g} kHz (acceptance {acceptance:g}) on "
          f"{result['test_background_events']} test background events:")
    for cut, r in cuts.items():
        print(f"  {cut:15s} " + "  ".join(f"{s} {r[s]:.4f}" for s in opts["signals"])
              + (f"  (threshold {r['threshold_gev']} GeV)" if "threshold_gev" in r else ""))
    if "best_design_by_val" in result:
        b = result["best_design_by_val"]
        print(f"best design (val) trial {b['trial']} {b['architecture']} {b['lut']} LUT: "
              + "  ".join(f"{s} {b['test'][s]:.4f}" for s in opts["signals"])
              + f"; beats every cut on {result['best_design_beats_every_cut_on']}")
    print("checks: " + ", ".join(f"{k}={'ok' if v else 'FAIL'}" for k, v in checks.items()))
    print(f"wrote {args.json}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
