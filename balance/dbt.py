"""Running `dbt build` for a workspace and reading which tests failed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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


def dbt_environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        {
            # dbt runs in the workspace folder, so the profile's warehouse path is the same
            # text for every workspace and a parse made for one serves all of them.
            "BALANCE_WORKSPACE": ".",
            "DBT_PROFILES_DIR": str(PROJECT_ROOT),
            "DBT_PROJECT_DIR": str(PROJECT_ROOT),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    return environment


def dbt_target_dir(workspace: Workspace) -> Path:
    """Each workspace keeps its own dbt artifacts, so two workspaces never mix run results."""
    return workspace.logs / "dbt"


def run_dbt(workspace: Workspace, subcommand: str = "build", extra_args=()) -> BuildResult:
    """`dbt build` (or `dbt test`, …) on the workspace's warehouse, in a child process."""
    target = dbt_target_dir(workspace).absolute()  # dbt runs in the workspace folder
    (target / "target").mkdir(parents=True, exist_ok=True)
    run_results = target / "target" / "run_results.json"
    _reuse_shared_parse(target / "target" / PARSE_FILE)
    run_results.unlink(missing_ok=True)  # never read a previous build's verdict
    command = [
        str(Path(sys.executable).with_name("dbt")),
        *subcommand.split(),  # "build", or "docs generate"
        "--project-dir",
        str(PROJECT_ROOT),
        "--profiles-dir",
        str(PROJECT_ROOT),
        "--target-path",
        str(target / "target"),
        "--log-path",
        str(target),
        *extra_args,
    ]
    completed = subprocess.run(
        command,
        cwd=workspace.root.absolute(),
        env=dbt_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    _share_parse(target / "target" / PARSE_FILE)
    statuses, failures = _read_results(run_results)
    succeeded = completed.returncode == 0
    if not succeeded and not failures:
        lines = [line for line in completed.stdout.splitlines() if "error" in line.lower()]
        failures = lines[-3:] or [f"dbt exited with code {completed.returncode}"]
    return BuildResult(succeeded, failures, completed.stdout + completed.stderr, statuses)


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
