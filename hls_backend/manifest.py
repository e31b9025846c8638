"""The firmware bundle's manifest: checksums and provenance, written last and atomically.

A bundle is trusted only through its manifest: every file's SHA-256, the spec fingerprint
and the versions of the tools that produced it. The manifest is written after every other
file (temp file + rename), so a bundle whose export broke half way has none, and
``verify`` refuses it instead of replaying a half-written design.
"""

from __future__ import annotations

import hashlib
import json
import os
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
    """Every file in the bundle but the manifest and the failure marker, dot-files included.

    Nothing is left out silently: a file a manifest does not cover is reported by ``verify``.
    Symbolic links are listed as they are (not followed into directories).
    """
    bundle = Path(bundle)
    out = []
    for root, dirs, files in os.walk(bundle, followlinks=False):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            path = Path(root) / name
            if path.parent == bundle and name in (MANIFEST, FAILED):
                continue
            out.append(path)
    return sorted(out)


def inside(bundle: Path, rel: str) -> Path | None:
    """``bundle / rel`` if it resolves (links followed) inside the bundle, else None."""
    root = Path(bundle).resolve()
    if not isinstance(rel, str) or not rel or "\0" in rel or Path(rel).is_absolute():
        return None
    path = (root / rel).resolve()
    return path if path != root and path.is_relative_to(root) else None


def write_manifest(bundle: Path, info: Mapping[str, Any]) -> dict[str, Any]:
    """Checksum every file of the bundle and write ``manifest.json`` last."""
    bundle = Path(bundle)
    files = {str(p.relative_to(bundle)): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
             for p in bundle_files(bundle)}
    manifest = {"manifest_version": MANIFEST_VERSION, **dict(info), "files": files}
    write_json_atomic(bundle / MANIFEST, manifest)
    (bundle / FAILED).unlink(missing_ok=True)
    return manifest


def _read_json(path: Path, what: str, fix: str) -> Any:
    from qnas.errors import FatalError

    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise FatalError(f"{path} is too large for a {what} ({path.stat().st_size:,} bytes); {fix}")
        return json.loads(path.read_bytes().decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise FatalError(f"{path} is not a valid {what} ({type(exc).__name__}: {str(exc)[:200]}); {fix}") from None
    except OSError as exc:
        raise FatalError(f"cannot read {path}: {exc.strerror or exc}; {fix}") from None


#: a manifest lists a few thousand files at most
MAX_MANIFEST_BYTES = 64 << 20


def read_manifest(bundle: Path) -> dict[str, Any]:
    """The bundle's manifest, checked for shape; any damage is a FatalError saying to re-export."""
    from qnas.errors import FatalError

    path = Path(bundle) / MANIFEST
    fix = "re-run `qnas export` for it"
    if not path.exists():
        failed = Path(bundle) / FAILED
        if failed.exists():
            record = _read_json(failed, "failure record", fix)
            reason = record.get("error", "unknown error") if isinstance(record, dict) else "unknown error"
            raise FatalError(f"{bundle} is a failed export ({str(reason)[:500]}); {fix}")
        raise FatalError(f"{bundle} has no {MANIFEST}: not a qnas firmware bundle, or its export "
                         f"was interrupted; {fix}")
    manifest = _read_json(path, "bundle manifest", fix)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    results = manifest.get("results") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not isinstance(results, dict) or not all(
            isinstance(m, dict) and isinstance(m.get("sha256"), str) for m in files.values()):
        raise FatalError(f"{path} is not a qnas bundle manifest (no files/results with checksums); {fix}")
    if not isinstance(results.get("synthesis", {}), dict):
        raise FatalError(f"{path}: results.synthesis must be a mapping; {fix}")
    results.setdefault("synthesis", {})
    return manifest


def check_files(bundle: Path, manifest: Mapping[str, Any]) -> list[str]:
    """Problems with the bundle's files against its manifest (empty list: all intact).

    Every path the manifest names must resolve inside the bundle: an entry like
    ``../../etc/shadow`` is reported and never opened (hashing it would reveal whether it
    matches). Files the manifest does not cover, dot-files included, are reported too.
    """
    bundle = Path(bundle)
    problems = []
    recorded = manifest.get("files", {})
    for rel, meta in recorded.items():
        path = inside(bundle, rel)
        if path is None:
            problems.append(f"manifest names a path outside the bundle: {str(rel)[:200]!r} (not read)")
        elif not path.is_file():
            problems.append(f"missing file {rel}")
        elif sha256_file(path) != meta.get("sha256"):
            problems.append(f"checksum mismatch: {rel} was modified or corrupted")
    for path in bundle_files(bundle):
        rel = str(path.relative_to(bundle))
        if path.is_symlink() and inside(bundle, rel) is None:
            problems.append(f"link leads outside the bundle: {rel} -> {os.readlink(path)}")
        elif rel not in recorded:
            problems.append(f"file not in manifest: {rel}")
    return problems
