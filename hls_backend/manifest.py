"""The firmware bundle's manifest: checksums and provenance, written last and atomically.

A bundle is trusted only through its manifest: every file's SHA-256, the spec fingerprint
and the versions of the tools that produced it. The manifest is written after every other
file (temp file + rename), so a bundle whose export broke half way has none, and
``verify`` refuses it instead of replaying a half-written design.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from qnas._io import write_json_atomic

MANIFEST = "manifest.json"
FAILED = "FAILED.json"
MANIFEST_VERSION = 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def bundle_files(bundle: Path) -> list[Path]:
    """Files a manifest covers: everything but the manifest, failure marker and temp files."""
    out = []
    for path in sorted(Path(bundle).rglob("*")):
        if not path.is_file() or path.name in (MANIFEST, FAILED) or path.name.startswith("."):
            continue
        out.append(path)
    return out


def write_manifest(bundle: Path, info: Mapping[str, Any]) -> dict[str, Any]:
    """Checksum every file of the bundle and write ``manifest.json`` last."""
    bundle = Path(bundle)
    files = {str(p.relative_to(bundle)): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
             for p in bundle_files(bundle)}
    manifest = {"manifest_version": MANIFEST_VERSION, **dict(info), "files": files}
    write_json_atomic(bundle / MANIFEST, manifest)
    (bundle / FAILED).unlink(missing_ok=True)
    return manifest


def read_manifest(bundle: Path) -> dict[str, Any]:
    from qnas.errors import FatalError

    path = Path(bundle) / MANIFEST
    if not path.exists():
        failed = Path(bundle) / FAILED
        if failed.exists():
            reason = json.loads(failed.read_text()).get("error", "unknown error")
            raise FatalError(f"{bundle} is a failed export ({reason}); re-run `qnas export` for it")
        raise FatalError(f"{bundle} has no {MANIFEST}: not a qnas firmware bundle, or its export "
                         "was interrupted; re-run `qnas export`")
    return json.loads(path.read_text())


def check_files(bundle: Path, manifest: Mapping[str, Any]) -> list[str]:
    """Problems with the bundle's files against its manifest (empty list: all intact)."""
    bundle = Path(bundle)
    problems = []
    recorded = manifest.get("files", {})
    for rel, meta in recorded.items():
        path = bundle / rel
        if not path.exists():
            problems.append(f"missing file {rel}")
        elif sha256_file(path) != meta["sha256"]:
            problems.append(f"checksum mismatch: {rel} was modified or corrupted")
    for path in bundle_files(bundle):
        rel = str(path.relative_to(bundle))
        if rel not in recorded:
            problems.append(f"file not in manifest: {rel}")
    return problems
