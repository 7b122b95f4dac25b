"""The `semitrade` command line: `semitrade run`, `semitrade fetch ...`, `semitrade export ...`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ingest.config import HomeMixError
from ingest.scope import ScopeError
from serving.errors import ServingError

# Each module in orchestration/commands registers its sub-commands; the handler is stored as `func`.
COMMAND_MODULES: tuple[str, ...] = (
    "orchestration.commands.run",
    "orchestration.commands.fetch",
    "orchestration.commands.import_",
    "orchestration.commands.export",
    "orchestration.commands.report",
)


class CommandError(RuntimeError):
    """A user-facing failure: printed as one clear line, exit status 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="semitrade",
        description="Semiconductor trade warehouse: UN Comtrade and national customs statistics → DuckDB marts.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args) or 0)
    except (CommandError, ServingError, HomeMixError, ScopeError) as exc:
        print(f"semitrade {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"semitrade {args.command}: interrupted; what was landed so far is kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
