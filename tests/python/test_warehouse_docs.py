"""The warehouse describes itself: in the DuckDB shell, `duckdb_tables()` and `duckdb_columns()`
show each mart's and each mart column's description, the one in the marts' YAML."""

from __future__ import annotations

import yaml

from core.workspace import PROJECT_ROOT

from support import query

MARTS_YAML = sorted((PROJECT_ROOT / "models/marts").rglob("_*__models.yml"))


def yaml_descriptions() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """model → description, and (model, column) → description, as the marts' YAML has them."""
    models: dict[str, str] = {}
    columns: dict[tuple[str, str], str] = {}
    for path in MARTS_YAML:
        for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            models[model["name"]] = model.get("description", "")
            for column in model.get("columns", []):
                columns[model["name"], column["name"]] = column.get("description", "")
    return models, columns


def test_a_marts_column_carries_its_yaml_description(built_demo):
    _, columns = yaml_descriptions()

    assert query(
        built_demo,
        "select comment from duckdb_columns() "
        "where schema_name = 'marts' and table_name = ? and column_name = ?",
        ["fct_balances_daily", "net_cents"],
    ) == [(columns["fct_balances_daily", "net_cents"],)]
    assert columns["fct_balances_daily", "net_cents"] == (
        "The member's net at the end of the day, in cents; positive = owed."
    )


def test_every_mart_and_marts_column_has_its_yaml_description(built_demo):
    models, columns = yaml_descriptions()
    column_comments = {
        (table, column): comment
        for table, column, comment in query(
            built_demo,
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name = 'marts'",
        )
    }
    table_comments = dict(
        query(
            built_demo,
            "select table_name, comment from duckdb_tables() where schema_name = 'marts' "
            "union all "
            "select view_name, comment from duckdb_views() where schema_name = 'marts'",
        )
    )

    assert len(column_comments) > 100
    assert [key for key, comment in column_comments.items() if not (comment or "").strip()] == []
    assert column_comments == columns
    assert [table for table, comment in table_comments.items() if not (comment or "").strip()] == []
    assert table_comments == models
