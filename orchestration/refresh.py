"""Which part of the dbt project a warehouse build must run, on DuckDB or on Spark: only what changed
since the last published build of that target.

A build compares two fingerprints with those of the last build that was published:

- the dbt project (every file of models, seeds, macros, tests, dbt_project.yml and profiles.yml, by
  content, and the versions of dbt-core and the target's adapter and engine: dbt-duckdb and duckdb, or
  dbt-spark and pyspark): when it changed, every node runs;
- each lake input: a dbt source's folder ``lake/<source>/<table>`` with its quality gate's blocklist
  ``lake/_gate/<source>/<table>.json``, and the folders that models read through a macro instead of a
  source (``lake/_quarantine``, read by ``lake_quarantine_relation``). Lake files count by path, size and
  modification time, blocklists by content.

With the project unchanged, the build runs the nodes downstream of the inputs that changed
(``source:kcs.trade+``, ``stg_quarantine__rows+``: models and their data tests), without seeds and unit
tests (they test the SQL, which did not change), and without the models no changed input feeds, whose
tables are already in the build warehouse. On DuckDB, when no changed input feeds the national sources'
rows of fct_trade_flows (int_trade_flows__national), the build tells the fact to keep them
(``dbt_env``: $SEMITRADE_FCT_NATIONAL 'keep') rather than re-derive them whole. On DuckDB the views among those nodes are not made again
either (``standing_views``: the same definition is in the warehouse), unless a data test needs one. dagster-dbt selects ``fqn:*`` and dbt unites selections, so
the build is narrowed by excluding the rest (``excluded``). Nothing changed: no dbt run at all. A lake folder no input
accounts for, a missing build warehouse or recorded state, a full refresh or a schema drift: every node.

A home moved or copied elsewhere also makes again, on DuckDB, the views that read the lake (staging: their
definition holds the lake's path), and only them when no input changed; on Spark it runs every node (the
metastore and the tables' locations hold the old path).

The state is ``build_state.json`` beside the target's warehouse, outside what is published: in
``warehouse/`` for DuckDB, in ``spark-warehouse/_semitrade_state/`` for Spark (with the fact's partition
state, orchestration/spark_incremental.py). A build writes what it saw to ``build_state.pending.json``;
publishing promotes it. A failed build or a failed publication leaves the last published state, so the
next build runs again whatever changed since then.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from ingest.atomic import write_bytes_atomic
from ingest.config import Paths
from orchestration.dbt_target import DEFAULT_TARGET, spark_tables
from orchestration.resources import PROJECT_FOLDERS
from orchestration.spark_incremental import state_path as spark_fct_state_path

STATE_FILE = "build_state.json"
PENDING_FILE = "build_state.pending.json"
# per target: the packages whose versions change what a build makes (dbt, the adapter, the engine)
PACKAGES = {"duckdb": ("dbt-core", "dbt-duckdb", "duckdb"), "spark": ("dbt-core", "dbt-spark", "pyspark")}
# lake folders that models read through a macro rather than a dbt source: folder → the macro
MACRO_READ_FOLDERS = {"_quarantine": "lake_quarantine_relation"}
# lake folders that are bookkeeping, not data: the partition locks; the gate's blocklists belong to their source
NOT_INPUTS = {"_locks", "_gate"}
# the national sources' rows of fct_trade_flows: re-derived whole by every build, unless no input of theirs changed
NATIONAL_FLOWS = "model.semitrade.int_trade_flows__national"
NATIONAL_ENV = "SEMITRADE_FCT_NATIONAL"


def state_dir(store: Paths, target: str = DEFAULT_TARGET) -> Path:
    """The folder of ``target``'s recorded build state: beside the DuckDB build file, or with the Spark
    fact's partition state under spark-warehouse/ (neither is published)."""
    return store.warehouse_dir if target == "duckdb" else spark_fct_state_path(store).parent


def warehouse_built(store: Paths, target: str = DEFAULT_TARGET) -> bool:
    """Whether ``target`` has a warehouse a refresh can build on: the DuckDB build file, or Spark tables."""
    return store.build_db.exists() if target == "duckdb" else bool(spark_tables(store))


def package_version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def project_fingerprint(project_dir: Path, target: str = DEFAULT_TARGET) -> str:
    """A digest of the dbt project's files (by content) and of the versions of dbt and ``target``'s
    adapter and engine."""
    digest = hashlib.sha256()
    files = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in PROJECT_FOLDERS:
        files += sorted(p for p in (project_dir / folder).rglob("*") if p.is_file())
    for path in files:
        if path.exists():
            digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    for package in PACKAGES[target]:
        digest.update(f"{package}=={package_version(package)}\0".encode())
    return digest.hexdigest()


def folder_fingerprint(folder: Path) -> str:
    """A digest of the files under ``folder`` (hidden and temporary files aside): path, size, mtime."""
    digest = hashlib.sha256()
    if folder.exists():
        for path in sorted(folder.rglob("*")):
            if path.name.startswith(".") or not path.is_file():
                continue
            stat = path.stat()
            digest.update(
                f"{path.relative_to(folder).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode()
            )
    return digest.hexdigest()


def lake_inputs(store: Paths, manifest: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    """Each lake input of the dbt project, by its dbt selector (``source:kcs.trade+``) → the fingerprint
    of its files and the manifest nodes that read it; a lake folder no input accounts for →
    ``"unmapped:<folder>"`` (a build that sees one changed runs every node)."""
    inputs: dict[str, tuple[str, list[str]]] = {}
    claimed: set[str] = set()
    for uid, source in manifest.get("sources", {}).items():
        folder = store.lake / source["source_name"] / source["name"]
        gate = store.lake / "_gate" / source["source_name"] / f"{source['name']}.json"
        blocklist = hashlib.sha256(gate.read_bytes()).hexdigest() if gate.exists() else "none"
        selector = f"source:{source['source_name']}.{source['name']}+"
        inputs[selector] = (f"{folder_fingerprint(folder)}:{blocklist}", [uid])
        claimed.add(source["source_name"])
    for folder, macro in MACRO_READ_FOLDERS.items():
        fingerprint = folder_fingerprint(store.lake / folder)
        for uid, node in sorted(manifest.get("nodes", {}).items()):
            if f"macro.semitrade.{macro}" in node.get("depends_on", {}).get("macros", []):
                inputs[f"{node['name']}+"] = (fingerprint, [uid])
        claimed.add(folder)
    if store.lake.exists():
        for path in sorted(store.lake.iterdir()):
            if path.name not in claimed | NOT_INPUTS and not path.name.startswith("."):
                inputs[f"unmapped:{path.name}"] = (folder_fingerprint(path), [])
    return inputs


def downstream(manifest: dict[str, Any], start: list[str]) -> set[str]:
    """The manifest nodes ``start`` feeds, themselves included (dbt's ``+`` after a selector)."""
    children: dict[str, list[str]] = manifest.get("child_map", {})
    seen, todo = set(start), list(start)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def lake_readers(manifest: dict[str, Any], inputs: dict[str, tuple[str, list[str]]]) -> set[str]:
    """The models that name a lake folder in their SQL: those a source feeds directly (staging views,
    whose definition holds the source's path) and the macro readers themselves."""
    children: dict[str, list[str]] = manifest.get("child_map", {})
    readers: set[str] = set()
    for _, start in inputs.values():
        for uid in start:
            if uid.startswith("source."):
                readers |= {c for c in children.get(uid, []) if c.startswith("model.")}
            else:
                readers.add(uid)
    return readers


def standing_views(manifest: dict[str, Any], keep: set[str], remake: set[str]) -> set[str]:
    """The DuckDB views among ``keep`` a refresh need not make again: the project did not change, so the
    view in the warehouse has the same definition, and DuckDB binds a view when it is read (over the lake,
    making one binds every file's schema: 0.5–0.8 s a view at 1M rows). Not those in ``remake`` (their
    definition names a lake that moved), nor the views a data test of ``keep`` would lose its last
    selected parent with (excluded with cautious indirect selection, it would not run)."""
    nodes = manifest.get("nodes", {})
    views = {
        uid
        for uid in keep - remake
        if nodes.get(uid, {}).get("resource_type") == "model"
        and nodes[uid].get("config", {}).get("materialized") == "view"
    }
    for uid in keep:
        node = nodes.get(uid, {})
        if node.get("resource_type") == "test":
            parents = set(node.get("depends_on", {}).get("nodes", [])) & keep
            if parents <= views:
                views -= parents
    return views


def excluded(manifest: dict[str, Any], keep: set[str]) -> list[str]:
    """dbt selectors of the seeds, models, snapshots and sources not in ``keep``. Excluded with cautious
    indirect selection (a data test goes only when all its parents go), they leave the same nodes as
    selecting ``keep`` (``--select <input>+`` when ``keep`` is what an input feeds): dagster-dbt adds
    its own ``--select fqn:*`` and dbt unites selections, so a refresh can only narrow a build by
    excluding."""
    names = [
        node["name"]
        for uid, node in manifest.get("nodes", {}).items()
        if node["resource_type"] in ("model", "seed", "snapshot") and uid not in keep
    ]
    sources = [
        f"source:{source['source_name']}.{source['name']}"
        for uid, source in manifest.get("sources", {}).items()
        if uid not in keep
    ]
    return sorted(names) + sorted(sources)


@dataclass
class RefreshPlan:
    """What the next build on ``target`` runs: every node (``changed`` None), the nodes downstream of
    the changed inputs (``exclude``: the others), or nothing; ``why`` says which, for the run's log."""

    changed: list[str] | None
    why: str
    exclude: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    rebuilt: set[str] = field(default_factory=set)  # the manifest nodes a refresh runs (unique ids)
    moved: bool = False  # the home moved: the views that read the lake are made again
    target: str = DEFAULT_TARGET
    # DuckDB: no changed input feeds the national sources' rows, so fct_trade_flows keeps them (dbt_env)
    keep_national: bool = False

    @property
    def up_to_date(self) -> bool:
        return self.changed == [] and not self.moved

    def dbt_args(self) -> list[str]:
        """The arguments that narrow ``dbt build`` to the changed inputs' nodes (none for every node)."""
        if self.changed is None or self.up_to_date:
            return []
        return [
            "--exclude",
            " ".join(self.exclude),  # one value: dagster-dbt takes one per flag and splits it at spaces
            "--indirect-selection",
            "cautious",
            "--exclude-resource-type",
            "unit_test",
        ]

    def dbt_env(self) -> dict[str, str]:
        """The environment the dbt process of this build needs (set by the caller before dbt starts):
        whether fct_trade_flows keeps the national sources' rows (macro fct_keeps_national_rows). Not a
        --vars value: a change of --vars makes dbt parse the whole project again."""
        return {NATIONAL_ENV: "keep" if self.keep_national else "rederive"}

    def write_pending(self, store: Paths) -> Path:
        """After a successful build: what it saw, promoted to the recorded state once published."""
        text = json.dumps(self.state, indent=1, sort_keys=True) + "\n"
        folder = state_dir(store, self.target)
        folder.mkdir(parents=True, exist_ok=True)
        return write_bytes_atomic(folder / PENDING_FILE, text.encode("utf-8"))


def promote_pending(store: Paths, target: str = DEFAULT_TARGET) -> bool:
    """After a successful publication: the published build's state becomes the recorded one."""
    pending = state_dir(store, target) / PENDING_FILE
    if not pending.exists():
        return False
    pending.replace(pending.with_name(STATE_FILE))
    return True


def plan_refresh(
    store: Paths,
    project_dir: Path,
    manifest_path: Path,
    *,
    all_nodes: bool = False,
    target: str = DEFAULT_TARGET,
) -> RefreshPlan:
    """Compare the project and the lake inputs with the state of ``target``'s last published build."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    inputs = lake_inputs(store, manifest)
    state = {
        "project": project_fingerprint(project_dir, target),
        "lake": str(store.lake.resolve()),
        "inputs": {k: v[0] for k, v in inputs.items()},
    }
    path = state_dir(store, target) / STATE_FILE

    def every_node(why: str) -> RefreshPlan:
        return RefreshPlan(None, f"every node: {why}", state=state, target=target)

    if all_nodes:
        return every_node("asked for (full refresh or all_nodes)")
    if not warehouse_built(store, target) or not path.exists():
        return every_node("no published build to refresh")
    before = json.loads(path.read_text(encoding="utf-8"))
    if before.get("project") != state["project"]:
        engine = "DuckDB" if target == "duckdb" else "Spark"
        return every_node(f"the dbt project or the dbt/{engine} versions changed")
    old: dict[str, str] = before.get("inputs", {})
    now: dict[str, str] = state["inputs"]
    changed = sorted(k for k in old.keys() | now.keys() if old.get(k) != now.get(k))
    unmapped = [k.removeprefix("unmapped:") for k in changed if k.startswith("unmapped:") or k not in inputs]
    if unmapped:
        return every_node(f"lake folders no dbt input reads changed: {unmapped}")
    # a moved or copied home: the views that read the lake name its old path, so they are made again
    moved = before.get("lake") != state["lake"]
    if moved and target != "duckdb":
        return every_node(f"the home moved to {store.home} (the Spark metastore holds the old paths)")
    if not changed and not moved:
        why = "up to date: no lake input and no dbt project file changed since the published build"
        return RefreshPlan([], why, state=state, target=target)
    start = [uid for k in changed for uid in inputs[k][1]]
    remake = lake_readers(manifest, inputs) if moved else set()
    fed = downstream(manifest, start)
    keep = fed | remake
    if target == "duckdb":  # on Spark, the project's views are tables (dbt_project.yml)
        keep -= standing_views(manifest, keep, remake)
    why = f"the nodes downstream of the lake inputs that changed: {' '.join(changed) or 'none'}"
    if moved:
        why += f"; and the views that read the lake, which moved to {state['lake']}"
    # the national rows of the fact stay when nothing they are made of changed (not after a move: kept simple)
    keep_national = (
        target == "duckdb" and not moved and NATIONAL_FLOWS in manifest["nodes"] and NATIONAL_FLOWS not in fed
    )
    if keep_national:
        why += "; fct_trade_flows keeps the national sources' rows (none of their inputs changed)"
    return RefreshPlan(changed, why, excluded(manifest, keep), state, keep, moved, target, keep_national)
