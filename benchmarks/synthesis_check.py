"""Estimate vs synthesis for a study's Pareto set: does the search's claim survive synthesis?

Exports every Pareto-optimal trial of a finished study (hls4ml C simulation + RTL + testbench),
runs the open synthesis flow on each bundle, and prints estimated vs synthesized LUT, FF,
cycles and ns side by side with the time every step took.

    python benchmarks/synthesis_check.py runs/digits-default --out firmware/ --json out.json

JSON keys: csim_bitexact_rate and argmax_agreement (over all C-simulated output values /
vectors), rtl_bitexact_rate (fraction of test vectors whose every RTL output equals QKeras),
n_models, and ``models``: per trial the estimate, the synthesis results and step times.
Rates are fractions (1.0 = 100 %).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("storage", help="run directory, study.db or Optuna storage URL")
    parser.add_argument("--study", help="study name when the storage holds several")
    parser.add_argument("--out", default="firmware", help="bundle directory (default firmware/)")
    parser.add_argument("--vectors", type=int, default=1000)
    parser.add_argument("--no-ecp5", action="store_true", help="skip ECP5 place-and-route")
    parser.add_argument("--ecp5-timeout", type=float, default=1200,
                        help="seconds for each ECP5 place-and-route; a timeout is reported, not fatal")
    parser.add_argument("--max-models", type=int, default=None,
                        help="check at most this many Pareto trials, spread evenly over the front's LUT range")
    parser.add_argument("--json", type=Path, help="write figures as JSON here")
    args = parser.parse_args(argv)

    from hls_backend.bundle import export_trial, synthesize_bundle
    from hls_backend.manifest import read_manifest
    from hls_backend.study_access import open_finished_study
    from qnas.artifacts import TrialArtifacts
    from qnas.spec import ModelSpec

    found = open_finished_study(args.storage, args.study)
    numbers = _spread(found, found.pareto_numbers(), args.max_models)
    print(f"study {found.name!r}: {len(numbers)} Pareto-optimal trials {numbers}; part {found.part}, "
          f"clock {found.clock_ns} ns")
    models = []
    csim_values = csim_exact = argmax_n = argmax_ok = rtl_vectors = rtl_exact = 0
    for number in numbers:
        start = time.perf_counter()
        res = export_trial(TrialArtifacts(found.artifacts_dir(number)), args.out, number, part=found.part,
                           clock_ns=found.clock_ns, n_vectors=args.vectors,
                           provenance={"study": found.name, "storage": found.url, "trial": number})
        export_s = time.perf_counter() - start
        if not res.ok:
            print(f"trial {number}: export failed: {res.error}")
            models.append({"trial": number, "export_error": res.error})
            continue
        start = time.perf_counter()
        synth = synthesize_bundle(res.bundle, "open", ecp5=not args.no_ecp5, ecp5_timeout_s=args.ecp5_timeout,
                                  echo=print)
        failed = {name: entry["error"] for name, entry in
                  read_manifest(res.bundle)["results"]["synthesis"].items() if "error" in entry}
        synth_s = time.perf_counter() - start
        c, r = res.csim, res.rtl_sim
        if "skipped" not in c:
            n_vals = c["n_samples"] * c["n_outputs"]
            csim_values += n_vals
            csim_exact += round(c["bitexact_rate"] * n_vals)
            argmax_n += c["n_samples"]
            argmax_ok += round(c["argmax_agreement"] * c["n_samples"])
        rtl_vectors += r["vectors_checked"]
        rtl_exact += r["vectors_checked"] - r["vectors_mismatched"]
        models.append({
            "trial": number,
            "architecture": ModelSpec.from_json((res.bundle / "model" / "spec.json").read_text()).architecture,
            "estimate": res.estimate_open,
            "estimate_searched_strategy": res.estimate,
            "synthesis": {name: rep.to_dict() for name, rep in synth.items()},
            "synthesis_failures": failed,
            "csim": c, "rtl_sim": r,
            "seconds": {**res.seconds, "export_total_s": export_s, "open_synthesis_s": synth_s,
                        **{f"{name}_s": rep.extra.get("seconds") for name, rep in synth.items()}},
        })
        _print_model(number, res.estimate_open, synth, c, r, res.seconds)

    summary = {
        "n_models": sum(1 for m in models if "estimate" in m),
        "csim_bitexact_rate": csim_exact / csim_values if csim_values else None,
        "argmax_agreement": argmax_ok / argmax_n if argmax_n else None,
        "rtl_bitexact_rate": rtl_exact / rtl_vectors if rtl_vectors else None,
        "models": models,
    }
    print(f"\n{summary['n_models']} models: C-sim bit-exact {_pct(summary['csim_bitexact_rate'])} of output values, "
          f"argmax agreement {_pct(summary['argmax_agreement'])}, RTL bit-exact {_pct(summary['rtl_bitexact_rate'])} "
          "of vectors")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2, default=str))
        print(f"wrote {args.json}")
    return 0


def _spread(found, numbers: list[int], limit: int | None) -> list[int]:
    """At most ``limit`` trials evenly spaced along the front, ordered by estimated LUTs."""
    if limit is None or len(numbers) <= limit:
        return numbers
    trials = {t.number: t for t in found.study.get_trials(deepcopy=False)}
    by_lut = sorted(numbers, key=lambda n: trials[n].user_attrs.get("estimate", {}).get("lut", 0.0))
    picks = {round(i * (len(by_lut) - 1) / (limit - 1)) for i in range(limit)} if limit > 1 else {0}
    return sorted(by_lut[i] for i in picks)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _print_model(number, estimate, reports, csim, rtl, seconds) -> None:
    csim_text = "C-sim skipped (hls4ml cannot realise it)" if "skipped" in csim else \
        f"C-sim bit-exact {csim['bitexact_rate']:.2%}"
    print(f"\ntrial {number}: {csim_text}, RTL {rtl['vectors_checked'] - rtl['vectors_mismatched']}"
          f"/{rtl['vectors_checked']} vectors exact")
    print(f"  {'':12s} {'LUT':>9s} {'FF':>9s} {'DSP':>5s} {'cycles':>6s} {'ns':>8s}  {'seconds':>8s}  producer")
    rows = [("estimate", estimate, None)] + [(n, r.to_dict(), r.extra.get("seconds")) for n, r in reports.items()]
    for name, r, secs in rows:
        fmax = f" Fmax {r['fmax_mhz']:.0f} MHz" if r.get("fmax_mhz") else ""
        sec = f"{secs:8.1f}" if secs is not None else f"{'':8s}"
        print(f"  {name:12s} {r['lut']:9.0f} {r['ff']:9.0f} {r['dsp']:5.0f} {r['latency_cycles']:6d} "
              f"{r['latency_ns']:8.1f}  {sec}  {r['producer']}{fmax}")
    print("  steps: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))


if __name__ == "__main__":
    sys.exit(main())
