"""Running `dbt build` for a workspace and reading which tests failed."""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.workspace import PROJECT_ROOT, Workspace


@dataclass(frozen=True)
class BuildResult:
    succeeded: bool
    failures: list[str]  # "test_name: message" for each failed or errored node
    output: str
    statuses: dict[str, str]  # node name -> success, pass, fail, error, warn, skipped

    @property
    def summary(self) -> str:
        if self.succeeded:
            return "dbt build passed"
        return "dbt build failed: " + "; ".join(self.failures[:5])


# dbt's parse of the project (~3 s) is kept in partial_parse.msgpack beside each workspace's
# artifacts. The project is the same for every workspace, so the newest parse is also kept here
# and given to a workspace that has none: dbt checks every file, variable and profile setting
# against it and parses afresh when anything differs.
SHARED_PARSE_CACHE = PROJECT_ROOT / ".cache" / "dbt" / "partial_parse.msgpack"
PARSE_FILE = "partial_parse.msgpack"


# dbt runs in the workspace folder, so the profile's warehouse path is the same text for every
# workspace and a parse made for one serves all of them.
DBT_ENVIRONMENT = {
    "BALANCE_WORKSPACE": ".",
    "DBT_PROFILES_DIR": str(PROJECT_ROOT),
    "DBT_PROJECT_DIR": str(PROJECT_ROOT),
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
}
# What dbt prints on a terminal: the lines of its run, kept as the run's output.
PRINTED_LEVELS = {"info", "warn", "error"}


def dbt_target_dir(workspace: Workspace) -> Path:
    """Each workspace keeps its own dbt artifacts, so two workspaces never mix run results."""
    return workspace.logs / "dbt"


def run_dbt(
    workspace: Workspace, subcommand: str = "build", extra_args=(), log_statements: bool = False
) -> BuildResult:
    """`dbt build` (or `dbt test`, …) on the workspace's warehouse.

    dbt runs in this process, through its Python entry point: a child process would import dbt
    anew (~2 s before any work) on every build. What it would print goes to the result's
    output instead; its log is logs/dbt/dbt.log, with every statement run when
    `log_statements` (`--debug`)."""
    from dbt.cli.main import dbtRunner  # ~2 s to import: only commands that build pay it

    target = dbt_target_dir(workspace).absolute()  # dbt runs in the workspace folder
    (target / "target").mkdir(parents=True, exist_ok=True)
    run_results = target / "target" / "run_results.json"
    runs_nodes = subcommand in ("build", "test")
    _reuse_shared_parse(target / "target" / PARSE_FILE)
    run_results.unlink(missing_ok=True)  # never read a previous build's verdict
    arguments = [
        *subcommand.split(),  # "build", or "docs generate"
        "--project-dir",
        str(PROJECT_ROOT),
        "--profiles-dir",
        str(PROJECT_ROOT),
        "--target-path",
        str(target / "target"),
        "--log-path",
        str(target),
        "--log-level",
        "none",  # nothing on the terminal: the lines reach the output through printed()
        "--log-level-file",
        # Every statement in dbt.log costs ~15 % of a small build: only when asked (--debug).
        "debug" if log_statements else "info",
        "--no-use-colors",
        # A build writes no manifest.json (1.5 MB, twice a build: ~0.5 s on the demo) nor
        # graph.gpickle, which nothing reads; run_results.json is written below from memory.
        *(["--no-write-json"] if runs_nodes else []),
        *extra_args,
    ]
    printed: list[str] = []

    def keep_printed(event) -> None:
        if event.info.level in PRINTED_LEVELS:
            printed.append(event.info.msg)

    with _in_workspace(workspace):
        try:
            result = dbtRunner(callbacks=[keep_printed]).invoke(arguments)
        finally:
            release_warehouse()
    _share_parse(target / "target" / PARSE_FILE)
    if runs_nodes and result.result is not None:
        result.result.write(str(run_results))
    statuses, failures = _read_results(run_results)
    if not result.success and not failures:
        lines = [line for line in printed if "error" in line.lower()]
        failures = lines[-3:] or [f"dbt stopped: {result.exception or 'no result'}"]
    return BuildResult(result.success, failures, "\n".join(printed), statuses)


@contextmanager
def _in_workspace(workspace: Workspace):
    """The folder and environment dbt runs with, put back as they were afterwards."""
    previous_folder = Path.cwd()
    previous = {name: os.environ.get(name) for name in DBT_ENVIRONMENT}
    os.environ.update(DBT_ENVIRONMENT)
    os.chdir(workspace.root.absolute())
    try:
        yield
    finally:
        os.chdir(previous_folder)
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def release_warehouse() -> None:
    """Close the DuckDB database dbt opened. dbt-duckdb keeps it open for the life of the
    process, and DuckDB lets a process open one file only one way: the export, which opens
    the warehouse read-only next, would be refused."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if environment is not None:
        environment.close()


def _reuse_shared_parse(workspace_parse: Path) -> None:
    """Start a workspace that has no parse from the shared one; without it dbt parses afresh."""
    try:
        if not workspace_parse.exists() and SHARED_PARSE_CACHE.exists():
            shutil.copyfile(SHARED_PARSE_CACHE, workspace_parse)
    except OSError:  # e.g. a cache folder another user made private
        pass


def _share_parse(workspace_parse: Path) -> None:
    """Keep the workspace's parse for the next new workspace; a cache, so failures are ignored."""
    if not workspace_parse.exists():
        return
    try:
        SHARED_PARSE_CACHE.parent.mkdir(parents=True, exist_ok=True)
        partial = SHARED_PARSE_CACHE.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(workspace_parse, partial)
        partial.replace(SHARED_PARSE_CACHE)  # whole or not at all, even with two runs at once
    except OSError:
        pass


def _read_results(run_results: Path) -> tuple[dict[str, str], list[str]]:
    """Each node's status, and "name: first line of message" for the failed or errored ones."""
    if not run_results.exists():
        return {}, []
    statuses: dict[str, str] = {}
    failures: list[str] = []
    for result in json.loads(run_results.read_text(encoding="utf-8"))["results"]:
        name = result["unique_id"].split(".")[-1]
        statuses[name] = result["status"]
        if result["status"] in {"fail", "error"}:
            message = (result.get("message") or "").strip().splitlines()
            failures.append(f"{name}: {message[0]}" if message else name)
    return statuses, failures
