"""The Parquet files for Power BI, held to the column dictionary in docs/powerbi.md."""

from __future__ import annotations

import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.workspace import PROJECT_ROOT
from exports.powerbi import EXPORTED_MARTS, POWER_BI_TYPES, UnsafeColumnType, export_parquet

from support import invoke, make_workspace, put_in_inbox, query

DICTIONARY = PROJECT_ROOT / "docs/powerbi.md"
# How each documented type is stored in Parquet: TIMESTAMP in microseconds, 64-bit integers.
PARQUET_TYPES = {
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "BOOLEAN": pa.bool_(),
    "BIGINT": pa.int64(),
    "VARCHAR": pa.string(),
    "DECIMAL(18,2)": pa.decimal128(18, 2),
    "DECIMAL(5,2)": pa.decimal128(5, 2),
}
FILE_HEADING = re.compile(r"### `output/(?P<path>[\w/]+\.parquet)`")
COLUMN_ROW = re.compile(r"\| `(?P<column>\w+)` \| (?P<type>[A-Z]+(\(\d+,\d+\))?) \| .+ \|")
RELATIONSHIP_ROW = re.compile(r"\| `(\w+)\.(\w+)` \| `(\w+)\.(\w+)` \| (yes|no) \| .+ \|")
MEASURES_SECTION = re.compile(r"^## Measures \(DAX\)\n(?P<text>.*?)^## ", re.MULTILINE | re.DOTALL)
DAX_BLOCK = re.compile(r"^```dax\n(?P<code>.*?)^```", re.MULTILINE | re.DOTALL)
COLUMN_REFERENCE = re.compile(r"\b(\w+)\[(\w+)\]")
TABLE_AND_COLUMNS_ROW = re.compile(r"\| `(?P<table>\w+)` \| (?P<columns>`\w+`(, `\w+`)*) \| .+ \|")


def documented_columns() -> dict[str, list[tuple[str, str]]]:
    """output-relative path → [(column, type)], from the dictionary's headings and tables."""
    files: dict[str, list[tuple[str, str]]] = {}
    columns = None
    for line in DICTIONARY.read_text(encoding="utf-8").splitlines():
        if heading := FILE_HEADING.fullmatch(line):
            columns = files.setdefault(heading["path"], [])
        elif (row := COLUMN_ROW.fullmatch(line)) and columns is not None:
            columns.append((row["column"], row["type"]))
    return files


def test_every_file_has_the_documented_columns_and_types(built_demo):
    documented = documented_columns()
    written = sorted(
        path.relative_to(built_demo / "output").as_posix()
        for path in (built_demo / "output").rglob("*.parquet")
    )
    assert (
        sorted(documented)
        == written
        == sorted([f"powerbi/{mart}.parquet" for mart in EXPORTED_MARTS] + ["monthly_data.parquet"])
    )
    for path, columns in documented.items():
        assert {column_type for _, column_type in columns} <= POWER_BI_TYPES, path
        schema = pq.read_schema(built_demo / "output" / path)
        assert [(field.name, field.type) for field in schema] == [
            (column, PARQUET_TYPES[column_type]) for column, column_type in columns
        ], path


def documented_tables() -> dict[str, set[str]]:
    """Power BI table → its columns, as the folder's queries name them."""
    tables = {
        path.removeprefix("powerbi/").removesuffix(".parquet"): {name for name, _ in columns}
        for path, columns in documented_columns().items()
    }
    tables["payers"] = tables["dim_members"]  # dim_members loaded a second time, as the payer
    return tables


def test_relationships_join_documented_columns():
    tables = documented_tables()
    relationships = RELATIONSHIP_ROW.findall(DICTIONARY.read_text(encoding="utf-8"))
    assert len(relationships) == 25
    for from_table, from_column, to_table, to_column, _active in relationships:
        assert from_column in tables[from_table], (from_table, from_column)
        assert to_column in tables[to_table], (to_table, to_column)


def test_measures_name_documented_tables_and_columns():
    section = MEASURES_SECTION.search(DICTIONARY.read_text(encoding="utf-8"))["text"]
    tables = documented_tables()
    measures = DAX_BLOCK.findall(section)
    references = COLUMN_REFERENCE.findall(section)  # in the measures and in the text around them
    semi_additive = TABLE_AND_COLUMNS_ROW.finditer(section)

    assert [code.split(" =", 1)[0] for code in measures] == ["Balance", "Shared spend", "Spend"]
    assert ("fct_balances_daily", "net_amount") in references
    for table, column in references:
        assert column in tables[table], (table, column)
    for row in semi_additive:
        assert set(re.findall(r"\w+", row["columns"])) <= tables[row["table"]], row[0]


def test_row_counts_and_figures(built_demo):
    output = built_demo / "output"
    rows = {
        path.relative_to(output).as_posix(): pq.read_metadata(path).num_rows
        for path in output.rglob("*.parquet")
    }
    assert rows == {
        "powerbi/fct_transactions.parquet": 124,
        "powerbi/fct_shares.parquet": 108,
        "powerbi/fct_settlements.parquet": 1,
        "powerbi/fct_balances_daily.parquet": 362,
        "powerbi/dim_members.parquet": 2,
        "powerbi/dim_accounts.parquet": 5,
        "powerbi/dim_merchants.parquet": 20,
        "powerbi/dim_categories.parquet": 12,
        "powerbi/dim_dates.parquet": 183,
        "powerbi/rpt_balance.parquet": 2,
        "powerbi/rpt_settle_up.parquet": 1,
        "powerbi/rpt_monthly.parquet": 43,
        "monthly_data.parquet": 43,
    }
    assert pq.read_table(output / "powerbi/rpt_settle_up.parquet").to_pylist() == [
        {
            "transfer_order": 1,
            "from_member_id": "sam",
            "from_display_name": "Sam",
            "to_member_id": "alex",
            "to_display_name": "Alex",
            "amount_cents": 682221,
            "amount": Decimal("6822.21"),
        }
    ]
    monthly = pq.read_table(output / "monthly_data.parquet")
    assert monthly.equals(pq.read_table(output / "powerbi/rpt_monthly.parquet"))


def test_a_mart_with_no_rows_is_a_file_with_no_rows(built_demo, tmp_path):
    warehouse = tmp_path / "balance.duckdb"
    shutil.copyfile(built_demo / "warehouse/balance.duckdb", warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        for mart in EXPORTED_MARTS:  # everyone settled, and then nothing at all
            connection.execute(f"delete from marts.{mart}")
        written = export_parquet(connection, tmp_path / "output/powerbi")

    documented = documented_columns()
    assert len(written) == len(documented)
    for path in written:
        table = pq.read_table(path)
        columns = documented[path.relative_to(tmp_path / "output").as_posix()]
        assert table.num_rows == 0, path
        assert table.column_names == [column for column, _ in columns], path


def test_a_type_power_bi_would_misread_stops_the_export_before_any_file(tmp_path):
    with duckdb.connect() as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.fct_transactions "
            "(txn_id varchar, total hugeint, line integer, tags varchar[])"
        )
        with pytest.raises(UnsafeColumnType) as raised:
            export_parquet(connection, tmp_path / "powerbi")

    assert str(raised.value) == (
        "marts.fct_transactions has column types Power BI cannot take (total HUGEINT, "
        "line INTEGER, tags VARCHAR[]); cast them to one of BIGINT, BOOLEAN, DATE, "
        "DECIMAL(18,2), DECIMAL(5,2), TIMESTAMP, VARCHAR in the model"
    )
    assert list(tmp_path.iterdir()) == []


CAPITAL_ONE = "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"


@pytest.fixture(scope="module")
def mid_month_workspace(tmp_path_factory) -> Path:
    """After one `balance run`: a card whose rows start on 5 March and end on 17 April 2026."""
    workspace = make_workspace(tmp_path_factory.mktemp("mid_month") / "household")
    put_in_inbox(
        workspace,
        "alex",
        "card.csv",
        (
            CAPITAL_ONE + "2026-03-05,2026-03-06,2463,CAFE,Dining,4.50,\n"
            "2026-03-20,2026-03-21,2463,GROCER,Groceries,61.20,\n"
            "2026-04-17,2026-04-18,2463,CAFE,Dining,5.25,\n"
        ).encode(),
    )
    result = invoke("run", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    return workspace


def test_dim_dates_holds_the_whole_first_and_last_months(mid_month_workspace):
    whole_months = [(date(2026, 3, 1), date(2026, 4, 30), 31 + 30)]

    assert query(
        mid_month_workspace,
        "select min(transaction_date), max(transaction_date) from marts.fct_transactions",
    ) == [(date(2026, 3, 5), date(2026, 4, 17))]
    assert (
        query(
            mid_month_workspace,
            "select min(calendar_date), max(calendar_date), count(distinct calendar_date) "
            "from marts.dim_dates",
        )
        == whole_months
    )
    days = pq.read_table(mid_month_workspace / "output/powerbi/dim_dates.parquet")["calendar_date"]
    assert [(min(days.to_pylist()), max(days.to_pylist()), len(days))] == whole_months
