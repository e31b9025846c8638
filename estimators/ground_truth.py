"""The ground-truth dataset: sampled designs, their weights, and what synthesis said.

One record per design: the spec, the seed that regenerates its weights (weights are a
pure function of spec and seed through :func:`sample_weights`, so the dataset stays a
small JSON-lines file), the synthesis figures and the tool versions. The held-out split
is a fixed function of the spec fingerprint and seed (:func:`split_of`), so no fitting
code can ever see a held-out design, whatever order records arrive in.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from qnas.results import SynthesisResult
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
from qnas.weights import LayerWeights, ModelWeights

from ._csd import WeightPrior

#: share of designs held out from fitting (decided by hash, never by position)
HELDOUT_FRACTION = 0.25

DATA_DIR = Path(__file__).parent / "data"


def split_of(fingerprint: str, seed: int) -> str:
    """'heldout' or 'train', fixed forever by the design's identity."""
    digest = hashlib.sha256(f"{fingerprint}:{seed}".encode()).digest()
    return "heldout" if digest[0] < 256 * HELDOUT_FRACTION else "train"


def sample_weights(spec: ModelSpec, seed: int, prior: WeightPrior | None = None) -> ModelWeights:
    """Random but QAT-like quantized weights for ``spec`` (deterministic in ``seed``).

    Each layer draws its own sparsity around the prior's, as trained layers differ --
    unless the spec states it (``metadata['sparsity']``, a share of zero weights), as a
    sparsity-aware search does; then the kernel has that share of zeros in expectation.
    """
    from ._sparsity import spec_sparsity

    rng = np.random.default_rng(seed)
    base = prior or WeightPrior()
    layers = []
    for (layer, n_in, _), stated in zip(spec.layer_inputs(), spec_sparsity(spec)):
        sparsity = float(np.clip(rng.normal(base.sparsity, 0.12), 0.0, 0.8))
        layer_prior = WeightPrior(sparsity=sparsity, scale=base.scale)
        if stated is not None:
            layer_prior = base.for_zero_fraction(stated, layer.weight.bits, layer.weight.kind)
        kernel = _values(layer_prior, rng, (n_in, layer.units), layer.weight)
        bias = _values(WeightPrior(sparsity=0.1, scale=base.scale), rng, (layer.units,), layer.bias)
        layers.append(LayerWeights(kernel, bias))
    weights = ModelWeights(layers)
    weights.check(spec)
    return weights


def _values(prior: WeightPrior, rng: np.random.Generator, shape: tuple[int, ...], q: Quantizer) -> np.ndarray:
    ints = prior.sample(rng, shape, q.bits, q.kind)
    if q.kind != "fixed":
        return ints.astype(np.float64)
    if not q.signed:
        ints = np.abs(ints)
    return ints.astype(np.float64) * q.step


def sample_spec(rng: np.random.Generator, *, max_products: int = 1200, strategy: str = "distributed_arithmetic") -> ModelSpec:
    """A realistic small L1-trigger MLP (sizes kept small enough for open synthesis).

    Covers 1-3 hidden layers, 2-8 bit fixed weights plus ternary/binary, 6-12 bit inputs
    and 3-8 bit ReLU activations; the total number of products is capped so Yosys maps
    each design in seconds on a shared machine.
    """
    while True:
        n_in = int(rng.choice([4, 8, 12, 16, 24, 32]))
        n_hidden = int(rng.choice([1, 2, 3], p=[0.35, 0.4, 0.25]))
        widths = [int(rng.choice([4, 8, 12, 16, 24, 32, 48])) for _ in range(n_hidden)]
        n_out = int(rng.choice([1, 2, 3, 5, 8]))
        sizes = [n_in] + widths + [n_out]
        if sum(a * b for a, b in zip(sizes, sizes[1:])) <= max_products:
            break
    in_bits = int(rng.integers(6, 13))
    input_q = Quantizer.fixed(in_bits, int(rng.integers(0, min(in_bits - 1, 6))))
    layers = []
    for i, units in enumerate(widths + [n_out]):
        kind = rng.choice(["fixed", "ternary", "binary"], p=[0.8, 0.12, 0.08])
        if kind == "fixed":
            bits = int(rng.integers(2, 9))
            weight = Quantizer.fixed(bits, int(rng.integers(0, 2)) if bits > 2 else 0)
        else:
            weight = Quantizer.ternary() if kind == "ternary" else Quantizer.binary()
        bias_bits = int(rng.integers(4, 11))
        bias = Quantizer.fixed(bias_bits, int(rng.integers(0, 4)))
        last = i == len(widths)
        act = None
        if not last:
            abits = int(rng.integers(3, 9))
            act = Quantizer.fixed(abits, int(rng.integers(0, min(abits, 4) + 1)), signed=False)
        layers.append(DenseLayerSpec(f"dense_{i}" if not last else "output", units, weight, bias, act, 1))
    return ModelSpec(n_inputs=n_in, input_quantizer=input_q, layers=tuple(layers), strategy=strategy)  # type: ignore[arg-type]


@dataclass(frozen=True)
class GroundTruthRecord:
    """One synthesised design; ``truth`` is the flow's :class:`SynthesisResult`."""

    spec: ModelSpec
    seed: int
    truth: SynthesisResult
    synth_seconds: float
    tools: Mapping[str, str] = field(default_factory=dict)
    ecp5: Mapping[str, Any] | None = None
    #: trained weights (e.g. an HGQ2 checkpoint): stored in the record, since no seed draws them
    trained_weights: ModelWeights | None = None

    @property
    def split(self) -> str:
        return split_of(self.spec.fingerprint(), self.seed)

    @property
    def key(self) -> str:
        return f"{self.spec.fingerprint()}:{self.seed}"

    def weights(self) -> ModelWeights:
        if self.trained_weights is not None:
            return self.trained_weights
        return sample_weights(self.spec, self.seed)

    def to_json(self) -> str:
        data = {"spec": self.spec.to_dict(), "seed": self.seed, "split": self.split,
                "truth": self.truth.to_dict(), "synth_seconds": round(self.synth_seconds, 3),
                "tools": dict(self.tools), "ecp5": self.ecp5}
        if self.trained_weights is not None:
            data["weights"] = [{"kernel": np.asarray(lw.kernel, np.float64).tolist(),
                                "bias": np.asarray(lw.bias, np.float64).tolist()} for lw in self.trained_weights]
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "GroundTruthRecord":
        truth = SynthesisResult.from_dict(data["truth"])
        if not isinstance(truth, SynthesisResult):
            raise ValueError("ground-truth record 'truth' must be a SynthesisResult")
        spec = ModelSpec.from_dict(data["spec"])
        trained = None
        if data.get("weights") is not None:
            trained = ModelWeights([LayerWeights(np.asarray(lw["kernel"], np.float64), np.asarray(lw["bias"], np.float64))
                                    for lw in data["weights"]])
            trained.check(spec)
        return cls(spec=spec, seed=int(data["seed"]), truth=truth,
                   synth_seconds=float(data.get("synth_seconds", 0.0)), tools=dict(data.get("tools", {})),
                   ecp5=data.get("ecp5"), trained_weights=trained)


def read_records(path: str | Path) -> list[GroundTruthRecord]:
    """All records of a JSON-lines dataset (later duplicates of a key replace earlier ones).

    A cut-off last line (generator interrupted while writing) is skipped; a bad line
    anywhere else is an error naming it.
    """
    out: dict[str, GroundTruthRecord] = {}
    lines = Path(path).read_text().splitlines()
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            record = GroundTruthRecord.from_dict(json.loads(line))
        except json.JSONDecodeError as exc:
            if number == len(lines):
                # the generator was killed mid-write: the design is simply not done yet
                continue
            raise ValueError(f"{path}:{number}: not a ground-truth record ({exc})") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a ground-truth record ({exc})") from exc
        out[record.key] = record
    return list(out.values())


def append_record(path: str | Path, record: GroundTruthRecord) -> None:
    """Append one record and flush, so an interrupted generator loses at most one design."""
    with open(path, "a") as fh:
        fh.write(record.to_json() + "\n")
        fh.flush()


def split_records(records: Iterable[GroundTruthRecord]) -> tuple[list[GroundTruthRecord], list[GroundTruthRecord]]:
    """(train, heldout) by the fixed hash split."""
    train, held = [], []
    for record in records:
        (held if record.split == "heldout" else train).append(record)
    return train, held


def iter_dataset_files(directory: str | Path = DATA_DIR) -> Iterator[Path]:
    """Dataset files in ``directory`` (the generator's ``*.failures.jsonl`` logs excluded)."""
    yield from sorted(p for p in Path(directory).glob("ground_truth*.jsonl") if not p.name.endswith(".failures.jsonl"))
