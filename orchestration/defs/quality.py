"""Quality gates as Dagster asset checks: one blocking check per lake dataset registered in
ingest/quality/specs.py, run right after the asset that writes the lake files and before dbt.

The check validates every lake file of the dataset with Great Expectations (ingest/quality/gate.py)
and writes the blocklist lake/_gate/<source>/<dataset>.json that staging honours:
- a file with a wrong schema or unreadable → the check fails with ERROR severity and, being
  blocking, stops everything downstream (dbt would otherwise type the whole view from it);
- a file with failing rows (unknown codes, negative values, null keys, periods out of range) → it is
  on the blocklist, excluded from staging, and the check fails with WARN severity: the other
  partitions are still published;
- unit-value outliers are flagged in the metadata and the data docs, never blocked.
"""

from collections.abc import Callable

import dagster as dg

from ingest.config import Paths, paths
from ingest.quality.gate import run_gate
from ingest.quality.quarantine import quarantine_rows
from ingest.quality.specs import SPECS, DatasetSpec
from ingest.quality.verdict import GateResult
from orchestration.resources import STORE, SemitradeStore


def _metadata(result: GateResult, store: Paths) -> dict[str, object]:
    blocked_md = "\n".join(f"- `{line}`" for line in result.lines(limit=30)) or "_nothing blocked or flagged_"
    meta: dict[str, object] = {
        "files_validated": result.files,
        "rows_validated": result.rows,
        "files_blocked": len(result.blocked),
        "files_with_schema_errors": len(result.schema_failures),
        "files_flagged": len(result.warnings),
        "rows_flagged": sum(f.unexpected_count for fs in result.warnings.values() for f in fs),
        "quarantine_rows_total": quarantine_rows(store),
        "failures": dg.MetadataValue.md(blocked_md),
    }
    if result.blocklist:
        meta["blocklist"] = dg.MetadataValue.path(str(result.blocklist))
    if result.data_docs:
        meta["data_docs"] = dg.MetadataValue.path(str(result.data_docs))
    return meta


def evaluate(spec: DatasetSpec, store: Paths | None = None) -> dg.AssetCheckResult:
    """Run the gate for ``spec`` on ``store`` (default: the current SEMITRADE_HOME) and turn the verdict
    into a check result."""
    store = store or paths()
    result = run_gate(store, spec)
    if result.schema_failures:
        severity = dg.AssetCheckSeverity.ERROR
    else:
        severity = dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(passed=result.passed, severity=severity, metadata=_metadata(result, store))


def gate_check(spec_factory: Callable[[], DatasetSpec]) -> dg.AssetChecksDefinition:
    """A blocking asset check named ``quality_gate`` on the asset that writes ``spec``'s lake files."""
    spec = spec_factory()

    @dg.asset_check(
        asset=dg.AssetKey(list(spec.asset_key)),
        name="quality_gate",
        blocking=True,
        description=(
            f"Great Expectations gate on lake/{spec.source}/{spec.dataset}: schema and types, non-null keys, codes "
            "in the reference seeds, non-negative values, periods in range (failing files are blocklisted in "
            f"lake/_gate/{spec.source}/{spec.dataset}.json and not published; a wrong schema stops the run); "
            "unit-value outliers flagged. Data docs: $SEMITRADE_HOME/quality/data_docs/index.html."
        ),
    )
    def _check(store: SemitradeStore) -> dg.AssetCheckResult:
        return evaluate(spec_factory(), store.paths())

    return _check


defs = dg.Definitions(
    asset_checks=[gate_check(factory) for factory in SPECS.values()], resources={"store": STORE}
)
