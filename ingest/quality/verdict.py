"""What a quality gate decided and where the verdict is kept: the failures per lake file, the blocklist
``lake/_gate/<source>/<dataset>.json`` that staging reads to leave blocked files out, and the one-line
summary the command line prints. Written by ``ingest.quality.gate``; read without Great Expectations."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ingest.atomic import write_bytes_atomic
from ingest.config import Paths

ERROR = "error"
WARNING = "warning"
SCHEMA = "schema"


@dataclass(frozen=True)
class Failure:
    """One failed expectation on one lake file."""

    expectation: str
    column: str | None
    check: str
    severity: str  # schema | error | warning
    unexpected_count: int
    examples: list[Any]

    def line(self) -> str:
        col = f" on {self.column}" if self.column else ""
        return f"{self.expectation}{col} ({self.check}): {self.unexpected_count} row(s), e.g. {self.examples}"


@dataclass
class GateResult:
    """What the gate decided for one dataset."""

    source: str
    dataset: str
    files: int
    rows: int
    blocked: dict[str, list[Failure]] = field(default_factory=dict)  # lake file -> failures
    warnings: dict[str, list[Failure]] = field(default_factory=dict)
    source_files: dict[str, str | None] = field(default_factory=dict)  # lake file -> (first) landed file
    # lake file -> every landed file its rows came from (an e-Stat lake file holds several pages)
    all_source_files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    blocklist: Path | None = None
    data_docs: Path | None = None

    @property
    def schema_failures(self) -> dict[str, list[Failure]]:
        """Blocked files whose schema is wrong (these stop the pipeline)."""
        out = {f: [x for x in fs if x.severity == SCHEMA] for f, fs in self.blocked.items()}
        return {f: fs for f, fs in out.items() if fs}

    @property
    def passed(self) -> bool:
        return not self.blocked

    def lines(self, limit: int = 20) -> list[str]:
        """'<file>: <expectation> …' lines, blocked files first."""
        out = [f"BLOCKED {f}: {x.line()}" for f, fs in sorted(self.blocked.items()) for x in fs]
        out += [f"warning {f}: {x.line()}" for f, fs in sorted(self.warnings.items()) for x in fs]
        return out[:limit] + ([f"… {len(out) - limit} more"] if len(out) > limit else [])


def blocklist_path(paths: Paths, source: str, dataset: str) -> Path:
    """lake/_gate/<source>/<dataset>.json (read by staging to exclude blocked files)."""
    return paths.lake / "_gate" / source / f"{dataset}.json"


def data_docs_dir(paths: Paths) -> Path:
    """$SEMITRADE_HOME/quality/data_docs (Great Expectations HTML site; open index.html)."""
    return paths.home / "quality" / "data_docs"


def write_blocklist(paths: Paths, result: GateResult) -> Path:
    """lake/_gate/<source>/<dataset>.json, deterministic (sorted, no timestamps) and atomic."""
    blocked_sources = sorted(
        {s for f in result.blocked if (s := result.source_files.get(f))}
        | {s for f in result.blocked for s in result.all_source_files.get(f, ())}
    )
    body = {
        "source": result.source,
        "dataset": result.dataset,
        "files_validated": result.files,
        "rows_validated": result.rows,
        "blocked_source_files": blocked_sources,
        "blocked": {
            f: {"source_file": result.source_files.get(f), "failed": [asdict(x) for x in fs]}
            for f, fs in sorted(result.blocked.items())
        },
        "warnings": {
            f: {"source_file": result.source_files.get(f), "flagged": [asdict(x) for x in fs]}
            for f, fs in sorted(result.warnings.items())
        },
    }
    path = blocklist_path(paths, result.source, result.dataset)
    text = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    return write_bytes_atomic(path, text.encode("utf-8"))


def read_blocklist(paths: Paths, source: str, dataset: str) -> dict[str, Any]:
    """The last gate verdict of a dataset ({} when the gate never ran)."""
    path = blocklist_path(paths, source, dataset)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def gate_summary(paths: Paths) -> str:
    """One line for the CLI: blocked and flagged files over every dataset's last gate verdict."""
    verdicts = sorted((paths.lake / "_gate").glob("*/*.json")) if (paths.lake / "_gate").exists() else []
    if not verdicts:
        return "not run yet"
    blocked = flagged = files = 0
    for path in verdicts:
        body = json.loads(path.read_text(encoding="utf-8"))
        blocked += len(body.get("blocked", {}))
        flagged += len(body.get("warnings", {}))
        files += int(body.get("files_validated", 0))
    docs = data_docs_dir(paths) / "index.html"
    where = f"; data docs {docs}" if docs.exists() else ""
    return (
        f"{files:,} lake files checked, {blocked:,} blocked (not published), {flagged:,} with flagged rows "
        f"(lake/_gate/{where})"
    )
