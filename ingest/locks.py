"""Per-partition write locks: two runs (processes, threads, machines sharing a POSIX file system
with working ``flock``) never write the same lake partition at the same time.

A lock is an exclusive ``fcntl.flock`` on ``lake/_locks/<source>/<dataset>/<partition>.lock`` (the
partition's ``/`` become ``__``). The kernel releases it when the holder exits or crashes, so a
killed run never leaves a stale lock behind; the lock file itself stays (empty, harmless).

Usage (in a parser, around "is this vintage in the lake yet? → write it")::

    with partition_lock(paths, SOURCE, DATASET, entry.partition):
        ...  # check and write

or, for a ``parse_landed(paths, entry, ...)`` function, the decorator ``@locks_partition(SOURCE, DATASET)``.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from ingest.config import Paths

_SAFE = re.compile(r"^[A-Za-z0-9_.=-]+$")
P = ParamSpec("P")
R = TypeVar("R")


class PartitionLockedError(RuntimeError):
    """Another run holds the write lock of a partition and did not release it in time."""


def lock_path(paths: Paths, source: str, dataset: str, partition: str) -> Path:
    """lake/_locks/<source>/<dataset>/<partition with / as __>.lock (names validated: no traversal)."""
    parts = [source, dataset, *partition.split("/")]
    for part in parts:
        if not _SAFE.match(part) or part in (".", ".."):
            raise ValueError(f"{part!r} is not a safe lock name component (letters, digits, _ . = - only)")
    return paths.lake / "_locks" / source / dataset / ("__".join(partition.split("/")) + ".lock")


@contextmanager
def partition_lock(
    paths: Paths, source: str, dataset: str, partition: str, *, timeout: float = 600.0, poll: float = 0.05
) -> Iterator[Path]:
    """Hold the exclusive write lock of one partition; wait up to ``timeout`` seconds for it.

    Raises ``PartitionLockedError`` (naming the partition and the lock file) when another run still
    holds it after ``timeout``; ``timeout=0`` fails at once.
    """
    path = lock_path(paths, source, dataset, partition)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise PartitionLockedError(
                        f"{source}/{dataset} partition {partition} is being written by another run "
                        f"(lock {path}); wait for it to finish and run again"
                    ) from None
                time.sleep(poll)
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def locks_partition(source: str, dataset: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate ``f(paths, entry, ...)`` so it runs holding ``entry.partition``'s write lock: a
    concurrent run of the same partition waits, then finds the vintage written and skips it."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            paths: Any = args[0] if args else kwargs["paths"]
            entry: Any = args[1] if len(args) > 1 else kwargs["entry"]
            with partition_lock(paths, source, dataset, entry.partition):
                return func(*args, **kwargs)

        return wrapper

    return decorate
