"""Live code imports nothing from the sample modules: a fresh interpreter imports every live module
and the sample generators must not be among the modules it loaded."""

from __future__ import annotations

import json
import subprocess
import sys

LIVE_MODULES = (
    "ingest.comtrade.client",
    "ingest.comtrade.fetch",
    "ingest.comtrade.bulk",
    "ingest.comtrade.bulk_parse",
    "ingest.lake",
    "ingest.http",
    "ingest.comtrade.planner",
    "ingest.comtrade.parse",
    "ingest.comtrade.imports",
    "ingest.kcs.client",
    "ingest.kcs.fetch",
    "ingest.kcs.parse",
    "ingest.japan.client",
    "ingest.japan.parse",
    "ingest.japan.estat_fetch",
    "ingest.fx.rates",
    "ingest.scope",
    "orchestration.defs.national_live",
    "orchestration.defs.comtrade_live",
)
SAMPLE_MODULES = {
    "ingest.comtrade.sample",
    "ingest.comtrade.sample_flows",
    "ingest.kcs.sample",
    "ingest.japan.sample",
}


def test_live_modules_load_no_sample_module() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(LIVE_MODULES)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert set(LIVE_MODULES) <= loaded
    assert loaded & SAMPLE_MODULES == set()
