"""The raw layer (§9.2): one canonical transactions table for every schema, with full lineage."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

NO_NETWORK = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

RAW_TRANSACTION_COLUMNS = {
    "txn_id": "varchar",
    "file_sha256": "varchar",
    "file_path": "varchar",
    "line_number": "integer",
    "raw_line": "varchar",
    "schema_id": "varchar",
    "source_kind": "varchar",
    "inbox_member_id": "varchar",
    "owner_member_id": "varchar",
    "member_text": "varchar",
    "purchased_by": "varchar",
    "institution": "varchar",
    "account_text": "varchar",
    "account_last4": "varchar",
    "transaction_date": "date",
    "posted_date": "date",
    "description": "varchar",
    "merchant_text": "varchar",
    "category_text": "varchar",
    "reference": "varchar",
    "note": "varchar",
    "status_text": "varchar",
    "amount_cents": "bigint",
    "balance_cents": "bigint",
    "shared_amount_cents": "bigint",
    "static_sharing": "varchar",
    "static_policy": "varchar",
    "occurrence_index": "integer",
    "loaded_at": "timestamp",
}
ARROW_TYPES = {
    "varchar": pa.string(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}

RAW_DDL = f"""
create schema if not exists raw;
create table if not exists raw.transactions (
    {", ".join(f"{name} {sql_type}" for name, sql_type in RAW_TRANSACTION_COLUMNS.items())}
);
create table if not exists raw.files (
    file_sha256 varchar primary key,
    file_path varchar not null,
    schema_id varchar not null,
    inbox_member_id varchar,
    encoding varchar,
    delimiter varchar,
    rows_read integer not null,
    rows_loaded integer not null,
    rows_skipped integer not null,
    rows_skipped_by_reason varchar,
    amount_cents_total bigint not null,
    loaded_at timestamp not null
);
create table if not exists raw.file_attempts (
    attempted_at timestamp not null,
    file_path varchar not null,
    file_sha256 varchar not null,
    status varchar not null,
    schema_id varchar,
    reason varchar
);
create table if not exists raw.file_issues (
    attempted_at timestamp not null,
    file_path varchar not null,
    file_sha256 varchar not null,
    line_number integer,
    reason varchar not null
);
"""


class WarehouseLocked(RuntimeError):
    """Another program (often an open DuckDB shell) holds the warehouse."""


def utc_now() -> dt.datetime:
    """Naive UTC with microseconds: what DuckDB TIMESTAMP and Power BI expect."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@contextmanager
def connect(path: Path, read_only: bool = False):
    """A connection with extension downloads off; a lock held elsewhere is a one-line error."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        connection = duckdb.connect(str(path), read_only=read_only, config=NO_NETWORK)
    except duckdb.IOException as error:
        message = str(error)
        if "lock" in message.lower():
            raise WarehouseLocked(
                f"the warehouse {path} is locked by another program "
                "(close the DuckDB shell or the other balance run, then try again)"
            ) from None
        raise
    try:
        yield connection
    finally:
        connection.close()
    if not read_only and path.exists():
        path.chmod(0o600)


def ensure_raw_tables(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(RAW_DDL)


def loaded_hashes(connection: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in connection.execute("select file_sha256 from raw.files").fetchall()}


def _arrow_rows(rows: list[dict]) -> pa.Table:
    return pa.table(
        {
            name: pa.array([row[name] for row in rows], type=ARROW_TYPES[sql_type])
            for name, sql_type in RAW_TRANSACTION_COLUMNS.items()
        }
    )


def write_loaded_file(
    connection: duckdb.DuckDBPyConnection, file_row: dict, rows: list[dict]
) -> None:
    """All of a file's rows, its files row and its attempt, in one transaction (§5)."""
    connection.execute("begin transaction")
    try:
        if rows:
            incoming = _arrow_rows(rows)  # noqa: F841 - read by name in the SQL below
            connection.execute("insert into raw.transactions by name select * from incoming")
        connection.execute(
            "insert into raw.files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                file_row["file_sha256"],
                file_row["file_path"],
                file_row["schema_id"],
                file_row["inbox_member_id"],
                file_row["encoding"],
                file_row["delimiter"],
                file_row["rows_read"],
                file_row["rows_loaded"],
                file_row["rows_skipped"],
                json.dumps(file_row["rows_skipped_by_reason"], sort_keys=True),
                file_row["amount_cents_total"],
                file_row["loaded_at"],
            ],
        )
        record_attempt(
            connection,
            file_row["loaded_at"],
            file_row["file_path"],
            file_row["file_sha256"],
            "loaded",
            file_row["schema_id"],
            None,
        )
        connection.execute("commit")
    except BaseException:
        connection.execute("rollback")
        raise


def record_attempt(
    connection: duckdb.DuckDBPyConnection,
    attempted_at: dt.datetime,
    file_path: str,
    file_sha256: str,
    status: str,
    schema_id: str | None,
    reason: str | None,
    issues: list[tuple[int | None, str]] = (),
) -> None:
    connection.execute(
        "insert into raw.file_attempts values (?, ?, ?, ?, ?, ?)",
        [attempted_at, file_path, file_sha256, status, schema_id, reason],
    )
    if issues:
        connection.executemany(
            "insert into raw.file_issues values (?, ?, ?, ?, ?)",
            [[attempted_at, file_path, file_sha256, line, text] for line, text in issues],
        )
