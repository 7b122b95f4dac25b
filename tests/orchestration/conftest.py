"""Orchestration tests share the session's published warehouse (tests/published.py, registered in
tests/conftest.py); `SHARED_SCOPE` and `run_main_job` are re-exported for the tests that rebuild a copy."""

from __future__ import annotations

from tests.published import SHARED_SCOPE, run_main_job

__all__ = ["SHARED_SCOPE", "run_main_job"]
