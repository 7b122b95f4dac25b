"""`semitrade fetch <source>`: ad-hoc pulls from the live sources into landing/ and the lake.

Each source module registers a sub-parser under `fetch` via ``register_fetch(fetch_subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib

FETCH_MODULES: tuple[str, ...] = (
    "orchestration.commands.fetch_comtrade",
    "orchestration.commands.fetch_kcs",
    "orchestration.commands.fetch_japan",
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("fetch", help="pull data from a live source into landing/ and the lake")
    fetch_sub = parser.add_subparsers(dest="source", required=True, metavar="SOURCE")
    for name in FETCH_MODULES:
        importlib.import_module(name).register_fetch(fetch_sub)
