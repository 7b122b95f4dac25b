"""Crash-safe file writes: write to a temporary name in the same folder, fsync, then rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


class AtomicFile:
    """A file being written under a temporary name next to ``path`` (``.<name>.<random>.tmp``, which
    no reader globs): ``commit`` fsyncs it and moves it to ``path`` in one rename, ``discard`` removes
    it. For writes that happen in several steps (a Parquet file appended batch by batch)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        self.tmp = Path(tmp_name)

    def commit(self) -> Path:
        """fsync the temporary file and rename it to ``path``; on failure the temporary file is removed."""
        try:
            with open(self.tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(self.tmp, self.path)
        except BaseException:
            self.discard()
            raise
        return self.path

    def discard(self) -> None:
        """Remove the temporary file (``path`` is left as it was)."""
        self.tmp.unlink(missing_ok=True)


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``path`` in one rename.

    A crash leaves at most a ``.tmp`` file that no reader globs, never half of ``path``.
    """
    target = AtomicFile(path)
    try:
        write(target.tmp)
    except BaseException:
        target.discard()
        raise
    return target.commit()


def write_bytes_atomic(path: Path, content: bytes) -> Path:
    """Write ``content`` to ``path`` atomically."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(content))
