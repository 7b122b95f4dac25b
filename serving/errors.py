"""The errors the serving package raises: one base class, so callers (the CLI) catch them in one place."""

from __future__ import annotations


class ServingError(RuntimeError):
    """An export or report cannot be made; the message says what failed and what to do."""


class ExportError(ServingError):
    """An export the user asked for cannot be made (bad table, filter or path); the message says why."""


class ReportError(ServingError):
    """The report cannot be written (no warehouse, unwritable folder); the message says what to do."""
