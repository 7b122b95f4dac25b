"""The SEMITRADE_HOMEs a benchmark run works in: the bench warehouse's home (its other sources from the
offline sample's `semitrade run`) and the home of the sample's API-sized JSON responses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.measure import REPO, commit, uncommitted_changes


def base_name() -> str:
    """The folder of the offline sample's base home for the code measured: ``base-<commit>``, with
    ``-dirty`` when the checkout has uncommitted changes (their sources may differ from the commit's)."""
    return f"base-{commit()}" + ("-dirty" if uncommitted_changes() else "")


def setup_home(work: Path, home: Path) -> str:
    """The bench warehouse's other inputs (Korea, Japan, FX, the Comtrade sample, quality gates): the
    main job on the offline sample, run once per commit in ``work/base-<commit>`` and its lake copied
    into ``home``, so that ``dbt build`` of every mart has all its sources. Returns "ok" or the failure."""
    base = work / base_name()
    built = sorted(work.glob("base-*/lake"), key=lambda p: p.stat().st_mtime)
    if not (base / "lake").exists() and built and os.environ.get("SEMITRADE_BENCH_REUSE_BASE"):
        base = built[-1].parent  # another commit's base: the same sources unless their code changed
    if not (base / "lake").exists():
        shutil.rmtree(base, ignore_errors=True)
        env = os.environ | {"SEMITRADE_HOME": str(base), "DAGSTER_HOME": str(base / "dagster")}
        (base / "dagster").mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("semitrade")), "run"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            shutil.rmtree(base / "lake", ignore_errors=True)
            return f"FAILED ({proc.returncode}): {(proc.stdout + proc.stderr)[-300:]}"
    shutil.copytree(base / "lake", home / "lake")
    return f"ok ({base.name})"


def json_files(work: Path) -> tuple[Path, list[str]]:
    """Land the offline sample's JSON responses (API-sized) in their own home; their paths."""
    from ingest.comtrade.sample import land_sample
    from ingest.config import Paths

    home = work / "home-json"
    shutil.rmtree(home, ignore_errors=True)
    landed = land_sample(Paths(home))
    return home, [str(Paths(home).landing / e.path) for e, _ in landed]
