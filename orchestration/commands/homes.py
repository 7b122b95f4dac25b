"""Which data home a command works on: real data (default, data/live) or the offline sample (--sample)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ingest.config import Paths, paths
from orchestration.cli import CommandError


def add_home_option(parser: argparse.ArgumentParser) -> None:
    """``--sample``: work on the offline sample's home instead of the real-data home."""
    parser.add_argument(
        "--sample",
        action="store_true",
        help="use the SYNTHETIC offline sample's home (default data/sample) instead of the real-data home "
        "(default data/live); $SEMITRADE_HOME overrides both",
    )


def chosen_home(args: argparse.Namespace) -> Paths:
    """The home ``args`` ask for (see ``add_home_option``)."""
    return paths("sample" if getattr(args, "sample", False) else "real")


def published_warehouse(args: argparse.Namespace) -> Path:
    """The published warehouse to read: --warehouse, else the chosen home's; a clear error when missing."""
    if getattr(args, "warehouse", None):
        return Path(args.warehouse)
    store = chosen_home(args)
    if store.serving_db.exists():
        return store.serving_db
    hint = "run `semitrade build` after `semitrade fetch` or `semitrade import`"
    if (
        not getattr(args, "sample", False)
        and not os.environ.get("SEMITRADE_HOME")
        and paths("sample").serving_db.exists()
    ):
        hint = f"the offline sample's warehouse is in {paths('sample').home}: add --sample to read it"
    elif getattr(args, "sample", False):
        hint = "run `semitrade run` (the offline sample) first"
    raise CommandError(f"no published warehouse at {store.serving_db}: {hint}")
