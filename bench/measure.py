"""How the benchmark measures a contender: its own process, wall time, peak resident set of the process
tree (sampled), and the facts about the machine and code a result is only meaningful with."""

from __future__ import annotations

import ctypes
import functools
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Measure:
    """One contender's run: wall seconds, rows, rows/s, peak RSS (MB, sampled, incl. children)."""

    name: str
    seconds: float
    rows: int
    peak_rss_mb: float
    rows_per_s: float = 0.0
    ok: bool = True
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


# kcmp(2), to tell whether two processes run in one address space (linux/kcmp.h: KCMP_VM = 1)
_SYS_KCMP = {"x86_64": 312, "aarch64": 272}.get(platform.machine())
_KCMP_VM = 1


def shares_memory(pid: int, other: int) -> bool:
    """Whether ``pid`` runs in ``other``'s address space: a vfork / posix_spawn child before its exec
    (how the JVM and Python start their `chmod`s and `ls`es) shows its parent's whole resident set,
    which a sum over the process tree must not count twice. False where kcmp(2) cannot tell."""
    if _SYS_KCMP is None or sys.platform != "linux":
        return False
    return _libc().syscall(_SYS_KCMP, pid, other, _KCMP_VM, 0, 0) == 0


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of ``proc`` and its descendants, each address space counted once."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            if p.pid != proc.pid and shares_memory(p.pid, p.ppid()):
                continue
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def measure(name: str, step: str, max_gb: float, env: dict[str, str] | None = None, **args: Any) -> Measure:
    """Run ``bench.steps <step>`` in a new process (``env``: extra environment variables); wall time,
    sampled peak RSS of its process tree (``tree_rss``: a JVM the step starts included)."""
    cmd = [sys.executable, "-m", "bench.steps", step, json.dumps(args)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=os.environ | (env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ps = psutil.Process(proc.pid)
    peak, killed = 0, False
    while proc.poll() is None:
        try:
            peak = max(peak, tree_rss(ps))
        except psutil.NoSuchProcess:
            break
        if peak > max_gb * 1024**3:
            for child in ps.children(recursive=True):
                child.kill()
            proc.kill()
            killed = True
            break
        time.sleep(0.02)
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    if killed:
        return Measure(name, seconds, 0, peak / 2**20, ok=False, note=f"stopped: RSS > {max_gb:g} GB")
    if proc.returncode != 0:
        return Measure(name, seconds, 0, peak / 2**20, ok=False, note=f"failed: {err.strip()[-300:]}")
    detail = json.loads(out.strip().splitlines()[-1])
    peak_mb = max(peak / 2**20, detail.get("own_peak_rss_mb", 0.0))
    rows = int(detail.get("rows", 0))
    ok = detail.get("dbt_ok", True)
    note = "" if ok else "dbt build had failures: " + " | ".join(detail.get("dbt_errors", []))[-400:]
    return Measure(
        name, seconds, rows, peak_mb, rows / seconds if seconds else 0.0, ok=ok, note=note, detail=detail
    )


def machine() -> dict[str, Any]:
    """nproc, memory, CPU model and load of this machine."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "cpu_model": model,
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }


def commit() -> str:
    """The short commit of the code measured ("unknown" outside a git checkout)."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def uncommitted_changes() -> bool | None:
    """Whether the checkout measured differs from its commit (None outside a git checkout)."""
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return bool(status.strip())
