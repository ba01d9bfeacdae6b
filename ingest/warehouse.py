"""The raw layer: one canonical transactions table for every schema, with full lineage."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import duckdb
import pyarrow as pa

NO_NETWORK = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

RAW_TRANSACTION_COLUMNS = {
    "txn_id": "varchar",
    "legacy_txn_id": "varchar",
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
    "counterparty_text": "varchar",
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
    loaded_at timestamp not null,
    derivation_fingerprint varchar
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
    upgrade_raw_tables(connection)


def _columns_of(connection: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {
        row[0]
        for row in connection.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw' and table_name = ?",
            [table],
        ).fetchall()
    }


def upgrade_raw_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Bring a warehouse written by an earlier version to today's raw tables, in place.

    Rows loaded before account identity joined txn_id get today's txn_id, and keep the one
    they had as legacy_txn_id (journals written then refer to it). Files loaded then have no
    derivation fingerprint, so the next ingest re-reads those still on disk.
    """
    if "derivation_fingerprint" not in _columns_of(connection, "files"):
        connection.execute("alter table raw.files add column derivation_fingerprint varchar")
    if "counterparty_text" not in _columns_of(connection, "transactions"):
        # Files whose schema maps a counterparty are re-read: their schema file changed.
        connection.execute("alter table raw.transactions add column counterparty_text varchar")
    if "legacy_txn_id" in _columns_of(connection, "transactions"):
        return
    from ingest.parse import rekeyed_rows  # the identity formula lives with the parser

    connection.execute("begin transaction")
    try:
        connection.execute("alter table raw.transactions add column legacy_txn_id varchar")
        rows = connection.execute(
            "select rowid, txn_id, file_sha256, schema_id, inbox_member_id, account_text, "
            "transaction_date, amount_cents, description, coalesce(reference, '') "
            "from raw.transactions order by file_sha256, line_number"
        ).fetchall()
        connection.register("rekeyed", rekeyed_rows(rows))
        connection.execute(
            "update raw.transactions set legacy_txn_id = rekeyed.legacy_txn_id, "
            "txn_id = rekeyed.txn_id, occurrence_index = rekeyed.occurrence_index "
            "from rekeyed where raw.transactions.rowid = rekeyed.row_id"
        )
        connection.unregister("rekeyed")
        connection.execute("commit")
    except BaseException:
        connection.execute("rollback")
        raise


class LoadedFile(NamedTuple):
    """What raw.files says of a loaded file when ingest decides whether to read it again."""

    schema_id: str
    derivation_fingerprint: str | None  # None: loaded by a version that did not record it


def loaded_files(connection: duckdb.DuckDBPyConnection) -> dict[str, LoadedFile]:
    """Every loaded file by content hash."""
    rows = connection.execute(
        "select file_sha256, schema_id, derivation_fingerprint from raw.files"
    ).fetchall()
    return {sha256: LoadedFile(schema_id, fingerprint) for sha256, schema_id, fingerprint in rows}


RAW_TRANSACTIONS_SCHEMA = pa.schema(
    [(name, ARROW_TYPES[sql_type]) for name, sql_type in RAW_TRANSACTION_COLUMNS.items()]
)
# What a file's rows say, as a file read again is compared with what it loaded before: not
# when it was read, nor from which folder (archiving moves it).
ROW_FACT_COLUMNS = tuple(
    name
    for name in RAW_TRANSACTION_COLUMNS
    if name not in ("file_sha256", "file_path", "loaded_at")
)


FILES_COLUMNS = {
    "file_sha256": pa.string(),
    "file_path": pa.string(),
    "schema_id": pa.string(),
    "inbox_member_id": pa.string(),
    "encoding": pa.string(),
    "delimiter": pa.string(),
    "rows_read": pa.int32(),
    "rows_loaded": pa.int32(),
    "rows_skipped": pa.int32(),
    "rows_skipped_by_reason": pa.string(),
    "amount_cents_total": pa.int64(),
    "loaded_at": pa.timestamp("us"),
    "derivation_fingerprint": pa.string(),
}


def arrow_rows(rows: list[dict]) -> pa.Table:
    """Rows as dicts of raw.transactions columns, as one Arrow table in that column order."""
    return pa.table(
        {field.name: pa.array([row[field.name] for row in rows], field.type)
         for field in RAW_TRANSACTIONS_SCHEMA}
    )  # fmt: skip


def _raw_rows(tables: list[pa.Table]) -> pa.Table:
    """Files' rows as one table of raw.transactions' types (the two read paths' types differ)."""
    return pa.concat_tables(
        [RAW_TRANSACTIONS_SCHEMA.empty_table()]
        + [table.cast(RAW_TRANSACTIONS_SCHEMA) for table in tables]
    )


def files_with_other_rows(
    connection: duckdb.DuckDBPyConnection,
    file_hashes: Sequence[str],
    tables: list[pa.Table],
    columns: Sequence[str] = ROW_FACT_COLUMNS,
) -> set[str]:
    """Those of the loaded files (content hashes) whose stored rows differ, on `columns`, from
    their rows read again (`tables`): compared as multisets, so row order does not matter."""
    selected = ", ".join(("file_sha256", *columns))
    connection.register("reread_rows", _raw_rows(tables))
    try:
        different = connection.execute(
            f"""
            with stored as (
                select {selected} from raw.transactions where list_contains(?, file_sha256)
            ),
            reread as (
                select {selected} from reread_rows
            ),
            differences as (
                (select * from stored except all select * from reread)
                union all
                (select * from reread except all select * from stored)
            )
            select distinct file_sha256 from differences
            """,
            [list(file_hashes)],
        ).fetchall()
    finally:
        connection.unregister("reread_rows")
    return {sha256 for (sha256,) in different}


def write_loaded_files(
    connection: duckdb.DuckDBPyConnection,
    loaded: list[tuple[dict, pa.Table]],
    replaced: Sequence[str] = (),
    confirmed: Mapping[str, str] | None = None,
) -> None:
    """Files' rows, files rows and attempts, all in one transaction.

    A file is all-or-nothing either way; one commit for many files spares a commit per file,
    and a run killed before it leaves none of them loaded, for the next run to load. Each
    table gets one insert: an insert costs more than the rows it carries.

    Files read again because their configuration changed: those in `replaced` (content hashes)
    first lose their rows and raw.files row, which their new ones in `loaded` replace (or none,
    when they no longer read); those in `confirmed` read to the same rows and only get their
    new derivation fingerprint (content hash -> fingerprint).
    """
    confirmed = confirmed or {}
    if not (loaded or replaced or confirmed):
        return
    file_rows = [
        {
            **file_row,
            "rows_skipped_by_reason": json.dumps(
                file_row["rows_skipped_by_reason"], sort_keys=True
            ),
        }
        for file_row, _ in loaded
    ]
    rows = _raw_rows([table for _, table in loaded])
    files = pa.table(
        {
            column: pa.array([file_row[column] for file_row in file_rows], arrow_type)
            for column, arrow_type in FILES_COLUMNS.items()
        }
    )
    with _one_thread(connection):
        _write_batch(connection, rows, files, list(replaced), confirmed)


@contextmanager
def _one_thread(connection: duckdb.DuckDBPyConnection):
    """DuckDB on one thread for a while.

    Measured here (2 cores, 350k rows): an insert and commit take 1.1 s on one thread and 1.9 to
    2.7 s on two, which write and compress row groups in parallel during the insert.
    """
    threads = connection.execute("select current_setting('threads')").fetchone()[0]
    connection.execute("set threads = 1")
    try:
        yield
    finally:
        connection.execute(f"set threads = {int(threads)}")


def _write_batch(
    connection: duckdb.DuckDBPyConnection,
    rows: pa.Table,
    files: pa.Table,
    replaced: list[str],
    confirmed: Mapping[str, str],
) -> None:
    connection.execute("begin transaction")
    try:
        if replaced:
            for table in ("raw.transactions", "raw.files"):
                connection.execute(
                    f"delete from {table} where list_contains(?, file_sha256)", [replaced]
                )
        for name, table in (("incoming_rows", rows), ("incoming_files", files)):
            connection.register(name, table)
        connection.execute("insert into raw.transactions by name select * from incoming_rows")
        connection.execute("insert into raw.files by name select * from incoming_files")
        connection.execute(
            """
            insert into raw.file_attempts by name
            select loaded_at as attempted_at, file_path, file_sha256, 'loaded' as status,
                schema_id, null as reason
            from incoming_files
            """
        )
        if confirmed:
            connection.executemany(
                "update raw.files set derivation_fingerprint = ? where file_sha256 = ?",
                [[fingerprint, sha256] for sha256, fingerprint in confirmed.items()],
            )
        connection.execute("commit")
    except BaseException:
        connection.execute("rollback")
        raise
    finally:
        for name in ("incoming_rows", "incoming_files"):
            connection.unregister(name)


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
        # One Arrow table: a file can have thousands of bad lines, and parameters cost per value.
        lines = pa.table(
            {
                "line_number": pa.array([line for line, _ in issues], pa.int32()),
                "reason": pa.array([text for _, text in issues], pa.string()),
            }
        )
        connection.register("incoming_issues", lines)
        try:
            connection.execute(
                "insert into raw.file_issues select ?, ?, ?, line_number, reason "
                "from incoming_issues",
                [attempted_at, file_path, file_sha256],
            )
        finally:
            connection.unregister("incoming_issues")


def loaded_months(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The month (YYYY-MM) each loaded content was loaded in, by its sha256."""
    query = "select file_sha256, strftime(loaded_at, '%Y-%m') from raw.files"
    return dict(connection.execute(query).fetchall())


def find_loaded_file(
    connection: duckdb.DuckDBPyConnection, sha256: str | None, path_or_sha256: str
) -> tuple[str, str] | None:
    """(sha256, path) of the loaded file with this content, or named by this path or sha256."""
    return connection.execute(
        "select file_sha256, file_path from raw.files "
        "where file_sha256 = ? or file_path = ? or file_sha256 = ?",
        [sha256, path_or_sha256, path_or_sha256],
    ).fetchone()


def remove_loaded_file(connection: duckdb.DuckDBPyConnection, file_sha256: str) -> int:
    """Remove a loaded file and its rows, at once; returns how many rows went."""
    connection.execute("begin transaction")
    removed = connection.execute(
        "delete from raw.transactions where file_sha256 = ?", [file_sha256]
    ).fetchone()[0]
    connection.execute("delete from raw.files where file_sha256 = ?", [file_sha256])
    connection.execute("commit")
    return removed


def loaded_row_count(connection: duckdb.DuckDBPyConnection) -> int:
    return connection.execute("select count(*) from raw.transactions").fetchone()[0]
