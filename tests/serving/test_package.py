"""The serving package stands alone: no Dagster, no command line, and errors of its own."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orchestration.cli import CommandError
from serving.errors import ExportError, ReportError, ServingError


def test_importing_serving_loads_neither_dagster_nor_the_command_line() -> None:
    # GIVEN a fresh interpreter
    code = (
        "import sys; import serving.exports, serving.report; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dagster', 'dagster_dbt', 'orchestration'}))"
    )
    # WHEN it imports the exports and the report
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # THEN neither Dagster nor the orchestration package came with them
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("error", [ExportError, ReportError], ids=["export", "report"])
def test_serving_errors_are_their_own(error: type[Exception]) -> None:
    # GIVEN the errors the exports and the report raise
    # THEN they are serving errors, not command-line errors (the CLI catches ServingError itself)
    assert issubclass(error, ServingError)
    assert not issubclass(error, CommandError)
