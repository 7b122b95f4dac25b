"""landing/: raw bytes exactly as a source sent them, plus one manifest line per file.

Files are content-addressed (the name carries the first 16 hex digits of their sha256), so a
re-fetch that returns new bytes writes a new file next to the old one and nothing is ever
overwritten, while a re-fetch of identical bytes is recognised and not landed twice.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ingest.atomic import write_bytes_atomic
from ingest.config import REFERENCE_SOURCES, Paths, check_home, claim_home

Origin = Literal["live", "imported", "sample"]
# Every origin a row can carry: 'live' (pulled from a source's API), 'imported' (a file the user
# already had, landed with `semitrade import`) and 'sample' (the SYNTHETIC offline sample).
ORIGINS: tuple[str, ...] = ("live", "imported", "sample")

# Request parameters whose names look like credentials are never written anywhere.
_SECRET_PARAM = re.compile(r"(key|token|secret|password|subscription|auth|appid)", re.IGNORECASE)
_SAFE_PART = re.compile(r"^[A-Za-z0-9_.=-]+$")


class LandingError(RuntimeError):
    """Raw bytes could not be landed (disk full, permission, bad partition name)."""


@dataclass(frozen=True)
class LandedFile:
    """One manifest entry: where a raw file lives and how it was obtained."""

    source: str
    dataset: str
    partition: str
    path: str  # relative to the landing root
    sha256: str
    size: int
    status: int
    origin: Origin
    fetched_at: str
    params: dict[str, Any]

    def absolute(self, paths: Paths) -> Path:
        return paths.landing / self.path


def safe_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Request parameters with anything credential-like removed."""
    return {k: v for k, v in params.items() if not _SECRET_PARAM.search(k)}


def _check_part(name: str, value: str) -> str:
    if not _SAFE_PART.match(value) or value in (".", ".."):
        raise LandingError(f"{name} {value!r} is not a safe path component (letters, digits, _ . = - only)")
    return value


def land(
    paths: Paths,
    *,
    source: str,
    dataset: str,
    partition: str,
    stem: str,
    content: bytes,
    params: Mapping[str, Any],
    status: int = 200,
    origin: Origin = "live",
    suffix: str = ".json",
    fetched_at: datetime | None = None,
) -> tuple[LandedFile, bool]:
    """Land ``content`` under landing/<source>/<dataset>/<partition>/ and record it in the manifest.

    Returns the manifest entry and whether a new file was written (False when the identical bytes
    were already landed for the same partition).
    """
    for name, value in (("source", source), ("dataset", dataset), ("stem", stem)):
        _check_part(name, value)
    for part in partition.split("/"):
        _check_part("partition", part)
    _check_kind(paths, source, origin)
    digest = hashlib.sha256(content).hexdigest()
    rel = Path(source) / dataset / partition / f"{stem}__{digest[:16]}{suffix}"
    target = paths.landing / rel
    entry = LandedFile(
        source=source,
        dataset=dataset,
        partition=partition,
        path=rel.as_posix(),
        sha256=digest,
        size=len(content),
        status=status,
        origin=origin,
        fetched_at=(fetched_at or datetime.now(UTC)).isoformat(timespec="microseconds"),
        params=safe_params(params),
    )
    try:
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == digest:
            return entry, False
        write_bytes_atomic(target, content)
        _append_manifest(paths, entry)
    except OSError as exc:
        raise LandingError(f"could not land {rel} under {paths.landing}: {exc.strerror or exc}") from exc
    _claim_kind(paths, source, origin)
    return entry, True


@dataclass(frozen=True)
class Place:
    """Where one answer of a source lands (landing/<source>/<dataset>/<partition>/<stem>__<sha><suffix>)
    and the request parameters its manifest line records."""

    source: str
    dataset: str
    partition: str
    stem: str
    suffix: str
    params: Mapping[str, Any]


def land_at(
    paths: Paths, place: Place, content: bytes, *, origin: Origin = "live"
) -> tuple[LandedFile, bool]:
    """``land`` a client's answer at the place its request names (``KcsQuery.place``, ``JapanResponse.place``)."""
    return land(
        paths,
        source=place.source,
        dataset=place.dataset,
        partition=place.partition,
        stem=place.stem,
        content=content,
        params=place.params,
        origin=origin,
        suffix=place.suffix,
    )


def land_file(
    paths: Paths,
    src: Path,
    *,
    source: str,
    dataset: str,
    partition: str,
    stem: str,
    params: Mapping[str, Any],
    status: int = 200,
    origin: Origin = "live",
    suffix: str = ".tsv.gz",
    fetched_at: datetime | None = None,
) -> tuple[LandedFile, bool]:
    """Land the on-disk file ``src`` (e.g. a downloaded bulk file) like ``land`` does for bytes, in
    bounded memory: hashed in 1 MiB chunks, then moved (renamed) into landing/, never read whole.

    ``src`` is consumed: moved into place, or deleted when the identical bytes were already landed.
    Returns the manifest entry and whether a new file was written.
    """
    for name, value in (("source", source), ("dataset", dataset), ("stem", stem)):
        _check_part(name, value)
    for part in partition.split("/"):
        _check_part("partition", part)
    _check_kind(paths, source, origin)
    try:
        sha = hashlib.sha256()
        with open(src, "rb") as fh:
            while chunk := fh.read(1 << 20):
                sha.update(chunk)
        digest = sha.hexdigest()
        size = src.stat().st_size
        rel = Path(source) / dataset / partition / f"{stem}__{digest[:16]}{suffix}"
        target = paths.landing / rel
        entry = LandedFile(
            source=source,
            dataset=dataset,
            partition=partition,
            path=rel.as_posix(),
            sha256=digest,
            size=size,
            status=status,
            origin=origin,
            fetched_at=(fetched_at or datetime.now(UTC)).isoformat(timespec="seconds"),
            params=safe_params(params),
        )
        if target.exists() and target.stat().st_size == size:
            src.unlink()
            return entry, False
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            os.replace(src, tmp)  # same filesystem: a rename, no copy
        except OSError:
            shutil.copyfile(src, tmp)
            src.unlink()
        os.replace(tmp, target)
        _append_manifest(paths, entry)
    except OSError as exc:
        raise LandingError(f"could not land {src} under {paths.landing}: {exc.strerror or exc}") from exc
    _claim_kind(paths, source, origin)
    return entry, True


def _check_kind(paths: Paths, source: str, origin: str) -> None:
    """Refuse, before writing anything, to land sample bytes in a real home or real bytes in a sample one."""
    if source not in REFERENCE_SOURCES:
        check_home(paths, "sample" if origin == "sample" else "real")


def _claim_kind(paths: Paths, source: str, origin: str) -> None:
    """Record the home's kind once a file has landed. Best effort: without the marker, the manifest
    just written still tells what the home holds (``ingest.config.home_kind``)."""
    if source in REFERENCE_SOURCES:
        return
    try:
        claim_home(paths, "sample" if origin == "sample" else "real")
    except OSError:
        pass


def _append_manifest(paths: Paths, entry: LandedFile) -> None:
    paths.manifest.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(entry), sort_keys=True, ensure_ascii=False) + "\n"
    with open(paths.manifest, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.write(line)
            fh.flush()
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_manifest(
    paths: Paths, *, source: str | None = None, dataset: str | None = None
) -> Iterator[LandedFile]:
    """Manifest entries in landing order, optionally for one source/dataset.

    An entry whose file is gone (deleted by hand) is skipped; a torn last line from a crash is ignored.
    """
    if not paths.manifest.exists():
        return
    with open(paths.manifest, encoding="utf-8") as fh:
        for line in fh:
            try:
                raw = json.loads(line)
            except json.JSONDecodeError:
                continue
            entry = LandedFile(**raw)
            if source and entry.source != source or dataset and entry.dataset != dataset:
                continue
            if (paths.landing / entry.path).exists():
                yield entry
