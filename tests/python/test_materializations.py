"""The project's own table and view materializations (macros/materializations/): each model is
replaced in place, in one transaction, so a model that fails keeps the relation it had."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from dbt.cli.main import dbtRunner, dbtRunnerResult

from balance.dbt import release_warehouse
from core.workspace import PROJECT_ROOT

PROFILE = """\
probe:
  target: local
  outputs:
    local:
      type: duckdb
      path: "{path}"
      threads: 1
"""
PROJECT = """\
name: probe
version: "1.0"
profile: probe
macro-paths: ["macros"]
models:
  probe:
    +materialized: table
"""
PYTHON_MODEL = """\
def model(dbt, session):
    dbt.config(materialized="table")
    return session.sql("select {value} as value")
"""


def make_project(root: Path) -> Path:
    shutil.copytree(PROJECT_ROOT / "macros" / "materializations", root / "macros")
    (root / "models").mkdir()
    (root / "dbt_project.yml").write_text(PROJECT)
    (root / "profiles.yml").write_text(PROFILE.format(path=root / "probe.duckdb"))
    return root


def write_models(project: Path, table: str, view: str, python_value: str, kind: str) -> None:
    models = project / "models"
    (models / "a_table.sql").write_text(table)
    (models / "a_view.sql").write_text("{{ config(materialized='view') }}\n" + view)
    (models / "a_python.py").write_text(PYTHON_MODEL.format(value=python_value))
    kind_config = f"{{{{ config(materialized='{kind}') }}}}"
    (models / "b_kind.sql").write_text(kind_config + "\nselect 5 as value")


def dbt_build(project: Path) -> dbtRunnerResult:
    arguments = ["build", "--project-dir", str(project), "--profiles-dir", str(project)]
    try:
        return dbtRunner().invoke([*arguments, "--log-level", "none"])
    finally:
        release_warehouse()


def relations(project: Path) -> dict[str, tuple]:
    connection = duckdb.connect(str(project / "probe.duckdb"), read_only=True)
    try:
        kinds = connection.execute("select table_name, table_type from information_schema.tables")
        return {
            name: (kind, connection.execute(f"select * from main.{name}").fetchall())
            for name, kind in sorted(kinds.fetchall())
        }
    finally:
        connection.close()


def test_models_are_replaced_and_a_failing_model_keeps_what_it_had(tmp_path, monkeypatch):
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    project = make_project(tmp_path / "probe")
    write_models(project, "select 1 as value", "select 10 as value", "100", kind="view")
    assert dbt_build(project).success

    write_models(project, "select 2 as value", "select 20 as value", "200", kind="table")
    assert dbt_build(project).success
    replaced = {
        "a_python": ("BASE TABLE", [(200,)]),
        "a_table": ("BASE TABLE", [(2,)]),
        "a_view": ("VIEW", [(20,)]),
        "b_kind": ("BASE TABLE", [(5,)]),  # was a view
    }
    assert relations(project) == replaced

    # Each fails while it runs, after the relation it had was dropped in its transaction.
    write_models(
        project,
        "select cast(error('no') as int) as value",
        "select value from no_such_table",
        "1 / 0 + int('x')",
        kind="table",
    )
    failed = dbt_build(project)

    assert not failed.success
    assert sorted(r.node.name for r in failed.result if r.status == "error") == [
        "a_python",
        "a_table",
        "a_view",
    ]
    assert relations(project) == replaced
