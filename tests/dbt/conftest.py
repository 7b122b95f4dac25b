"""dbt tests: the session's Spark build (tests/dbt/spark_build.py), started only by the tests that use it."""

from tests.dbt.spark_build import spark_build  # noqa: F401 - session fixture
