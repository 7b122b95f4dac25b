"""Importing the project's modules changes nothing in the environment: no SEMITRADE_HOME, no PATH, no dbt run.

Each import runs in a fresh interpreter with a clean environment (only PATH and HOME), so what an earlier
test or the session set cannot hide a change. polars is imported first: it sets its allocator's
configuration (_RJEM_MALLOC_CONF) when imported, which is the library's doing, not ours.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.resources import manifest_path

PROBE = """
import importlib, json, os, sys
import polars  # noqa: F401 - third-party, sets _RJEM_MALLOC_CONF on import
before = dict(os.environ)
importlib.import_module(sys.argv[1])
after = dict(os.environ)
print(json.dumps({k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
                  if before.get(k) != after.get(k)}))
"""

MODULES = [
    "orchestration.resources",
    "orchestration.instance",
    "orchestration.cli",
    "orchestration.defs.warehouse",
    "serving.exports",
    "serving.report",
    "orchestration.definitions",
]


def _environment_change(module: str, cwd: Path) -> dict[str, list[str | None]]:
    env = {"PATH": os.defpath, "HOME": str(cwd)}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, module], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        pytest.fail(f"importing {module} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", MODULES)
def test_importing_changes_nothing_in_the_environment(module: str, tmp_path: Path) -> None:
    # GIVEN a parsed dbt project (the definitions read its manifest) and a clean environment
    manifest = manifest_path()
    assert manifest.exists(), "the test session parses the dbt project first (tests/conftest.py)"
    parsed_at = manifest.stat().st_mtime_ns
    # WHEN a fresh interpreter imports the module
    changed = _environment_change(module, tmp_path)
    # THEN no environment variable was set, changed or removed, and dbt did not re-parse the project
    assert changed == {}
    assert manifest.stat().st_mtime_ns == parsed_at
