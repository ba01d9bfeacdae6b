"""The vectorised ingest path loads exactly the careful path's rows, or leaves the file to it.

Each test ingests the same workspace twice, once on the careful path only and once with the
vectorised path, with the clock fixed so that even `loaded_at` must agree, and compares every
column of every raw row, in order, plus the files table, the attempts and the report.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from test_shipped_schemas import CASES, FIXTURES

from core.workspace import Workspace
from ingest import inbox

from support import make_workspace, put_in_inbox

BENCH_GENERATOR = Path(__file__).resolve().parents[2] / "bench" / "generate.py"
FIXED_NOW = dt.datetime(2026, 11, 26, 4, 30, 0, 123456)
CAPITAL_ONE_HEADER = "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"
# A household's own schema using what no shipped one does: footer lines, comma decimals, a
# direction column, several date formats, joined description columns, a static member.
EUROPEAN_BANK_SCHEMA = """
id: european_bank
description: Semicolon export with comma decimals, a debit/credit marker and a total line.
match:
  headers: [Buchungstag, Text, Betrag, Soll/Haben, Notiz, Referenz]
file:
  footer_lines: 1
columns:
  date: Buchungstag
  description: [Text, Notiz]
  amount: Betrag
  direction: Soll/Haben
  reference: Referenz
values:
  date_format: ['%d.%m.%Y', '%Y-%m-%d']
  decimal: ','
  thousands: '.'
amount:
  direction: {out: [S], in: [H]}
static:
  member: sam
  account: Girokonto 1234
"""
# Invisible marks and a currency in letters in the amounts, and cells beyond the header ignored.
MARKED_BANK_SCHEMA = """
id: marked_bank
description: Amounts with a right-to-left mark or a currency in letters; filled extra cells.
match:
  headers: [Valuta, Text, Betrag]
file:
  extra_fields: ignore
columns:
  date: Valuta
  description: Text
  amount: Betrag
values:
  date_format: '%d.%m.%Y'
  currency_text: Fr.
"""
MARKED_BANK_EXPORT = (
    "Valuta,Text,Betrag\n02.03.2026,MIGROS,\u200f-45.60,x\n06.03.2026,LOHN,Fr. 345.50\n"
)
# A file without header whose delimiter is none of those sniffed.
COLON_BANK_SCHEMA = """
id: colon_bank
description: Colon-separated export without header.
match:
  filename: '(?i)colon'
file:
  header: false
  delimiter: ':'
columns:
  date: column_1
  amount: column_2
  description: column_3
"""
EUROPEAN_BANK_EXPORT = (
    "Buchungstag;Text;Betrag;Soll/Haben;Notiz;Referenz\n"
    "01.03.2026;CAFE;4,50;S;;R1\n"
    '2026-03-02;GEHALT;"1.234,56";H;März;R2\n'
    "01.03.2026;CAFE;4,5;s; ;R1\n"
    "03.03.2026;MIETE;-850,00;S;Wohnung 3;\n"
    "Summe;;;;;\n"
    "\n"
)


def inbox_files(workspace: Path) -> list[Path]:
    return sorted(path for path in (workspace / "csv_inbox").rglob("*") if path.is_file())


def workspace_path(workspace: Path, path: Path) -> str:
    return path.relative_to(workspace).as_posix()


def warehouse_contents(workspace: Path) -> dict[str, list[tuple]]:
    connection = duckdb.connect(str(workspace / "warehouse" / "balance.duckdb"), read_only=True)
    try:
        return {
            table: connection.execute(f"select * from raw.{table} order by all").fetchall()
            for table in ("transactions", "files", "file_attempts", "file_issues")
        }
    finally:
        connection.close()


def ingest_both_ways(workspace: Path, tmp_path: Path, monkeypatch) -> dict[str, object]:
    """Ingest copies of `workspace` on each path; returns what each loaded and reported, and
    which files the vectorised path read itself."""
    monkeypatch.setattr(inbox, "utc_now", lambda: FIXED_NOW)
    vouched: list[str] = []
    offered = inbox.parse_clean_files

    def recording(candidates, household, connection):
        parsed = offered(candidates, household, connection)
        vouched.extend(candidates[file_id].context.file_path for file_id in parsed)
        return parsed

    monkeypatch.setattr(inbox, "parse_clean_files", recording)
    results = {}
    for vectorised in (False, True):
        copy = tmp_path / f"vectorised_{vectorised}"
        shutil.copytree(workspace, copy)
        report = inbox.ingest_workspace(Workspace(copy), vectorised=vectorised)
        results[vectorised] = (warehouse_contents(copy), inbox.format_report(report))
    careful, fast = results[False], results[True]
    return {"careful": careful, "fast": fast, "vouched": sorted(vouched)}


def fixtures_workspace(root: Path) -> Path:
    """Every fixture file, each in the inbox its schema's test uses."""
    workspace = make_workspace(root)
    inbox_of = {case.fixture: case.inbox for case in CASES}
    fixtures = sorted(path for path in FIXTURES.rglob("*") if path.is_file())
    for path in fixtures:
        relative = path.relative_to(FIXTURES).as_posix()
        member = inbox_of.get(relative, "alex")
        schema_folder = relative.split("/")[0]
        # A folder per schema: two banks both name their downloads activity.csv.
        folder = f"{member}/{schema_folder}" if member else schema_folder
        put_in_inbox(workspace, folder, path.name, path.read_bytes())
    return workspace


def test_every_fixture_loads_the_same_rows_on_both_paths(tmp_path, monkeypatch):
    workspace = fixtures_workspace(tmp_path / "fixtures")

    outcome = ingest_both_ways(workspace, tmp_path, monkeypatch)

    careful, fast = outcome["careful"], outcome["fast"]
    assert len(careful[0]["transactions"]) > 0
    assert "0 rejected" in careful[1]
    assert fast[0]["transactions"] == careful[0]["transactions"]
    assert fast[0] == careful[0]
    assert fast[1] == careful[1]
    # The comparison means something only if the vectorised path read the files itself: all
    # but the one whose quoted fields span lines, which only the careful path reads.
    every_file = [workspace_path(workspace, path) for path in inbox_files(workspace)]
    spanning_lines = "csv_inbox/alex/american_express_card/activity.csv"
    assert outcome["vouched"] == [path for path in every_file if path != spanning_lines]


@pytest.mark.slow
def test_a_bench_household_loads_the_same_rows_on_both_paths(tmp_path, monkeypatch):
    workspace = tmp_path / "bench"
    subprocess.run(
        [sys.executable, str(BENCH_GENERATOR), "--out", str(workspace), "--transactions", "2000"],
        check=True,
        capture_output=True,
    )

    outcome = ingest_both_ways(workspace, tmp_path, monkeypatch)

    careful, fast = outcome["careful"], outcome["fast"]
    assert len(careful[0]["transactions"]) >= 2000
    assert fast[0] == careful[0]
    assert fast[1] == careful[1]
    assert outcome["vouched"] == [workspace_path(workspace, p) for p in inbox_files(workspace)]


def test_clean_but_unusual_layouts_load_the_same_rows_on_both_paths(tmp_path, monkeypatch):
    workspace = make_workspace(tmp_path / "unusual")
    quoted = (
        CAPITAL_ONE_HEADER.replace("\n", "\r\n")
        + '2026-03-01,2026-03-02,2463,"CAFE, ""THE"" BEST",Dining,4.50,\r\n'
        + "\r\n"
        + ",,,,,,\r\n"
        + '"2026-03-01","2026-03-02","2463","CAFE, ""THE"" BEST","",4.50,\r\n'
        + '2026-03-03,2026-03-04,2463,  BOOKS\t,Shopping,"1,204.18",,\r\n'
        + '2026-03-05,2026-03-06,2463,REFUND,Shopping,,"$12.40"\r\n'
        + '2026-03-06,2026-03-07,2463,"",Shopping,(3.00),\r\n'
        + "2026-03-07,2026-03-07,2463,ZERO,Shopping,0.00,"
    )
    put_in_inbox(workspace, "alex", "capital_one_quoted.csv", quoted.encode())
    put_in_inbox(
        workspace,
        "sam",
        "capital_one_cp1252.csv",
        (CAPITAL_ONE_HEADER + "2026-03-01,2026-03-02,2463,CAFÉ DÉJÀ VU,Dining,4.50,\n").encode(
            "cp1252"
        ),
    )
    put_in_inbox(workspace, "alex", "capital_one_empty.csv", CAPITAL_ONE_HEADER.encode())
    (workspace / "rules").mkdir()
    (workspace / "rules/european_bank.yaml").write_text(EUROPEAN_BANK_SCHEMA)
    put_in_inbox(workspace, "sam", "umsaetze.csv", EUROPEAN_BANK_EXPORT.encode())
    (workspace / "rules/colon_bank.yaml").write_text(COLON_BANK_SCHEMA)
    put_in_inbox(workspace, "alex", "colon_export.txt", b"2026-03-01:-4.50:CAFE\n")
    (workspace / "rules/marked_bank.yaml").write_text(MARKED_BANK_SCHEMA)
    put_in_inbox(workspace, "sam", "marked_export.csv", MARKED_BANK_EXPORT.encode())

    outcome = ingest_both_ways(workspace, tmp_path, monkeypatch)

    careful, fast = outcome["careful"], outcome["fast"]
    assert "6 loaded, 0 rejected" in careful[1]
    assert len(careful[0]["transactions"]) == 14
    assert fast[0] == careful[0]
    assert fast[1] == careful[1]
    assert outcome["vouched"] == [
        "csv_inbox/alex/capital_one_empty.csv",
        "csv_inbox/alex/capital_one_quoted.csv",
        "csv_inbox/alex/colon_export.txt",
        "csv_inbox/sam/capital_one_cp1252.csv",
        "csv_inbox/sam/marked_export.csv",
        "csv_inbox/sam/umsaetze.csv",
    ]


def test_a_file_with_a_bad_line_falls_back_and_reports_the_same_lines(tmp_path, monkeypatch):
    workspace = make_workspace(tmp_path / "bad")
    good_rows = "".join(
        f"2026-03-{day:02},2026-03-{day:02},2463,CAFE {day},Dining,4.50,\n" for day in range(1, 20)
    )
    put_in_inbox(workspace, "alex", "card_good.csv", (CAPITAL_ONE_HEADER + good_rows).encode())
    bad = (
        CAPITAL_ONE_HEADER
        + good_rows
        + "2026-03-02,2026-03-03,2463,CAFE,Dining,abc,\n"
        + "2026-03-03,2026-03-04,2463,CAFE,Dining,1.00,2.00\n"
        + "2026-03-04,2026-03-05,2463,CAFE,Dining\n"
        + ",2026-03-05,2463,CAFE,Dining,1.00,\n"
        + "2026-03-05,2026-03-06,2463,CAFE,Dining,92233720368547758.07,\n"
    )
    put_in_inbox(workspace, "alex", "card_bad.csv", bad.encode())

    outcome = ingest_both_ways(workspace, tmp_path, monkeypatch)

    careful, fast = outcome["careful"], outcome["fast"]
    assert fast[0] == careful[0]
    assert fast[1] == careful[1]
    assert outcome["vouched"] == ["csv_inbox/alex/card_good.csv"]
    assert "rejected csv_inbox/alex/card_bad.csv: 5 bad lines (schema capital_one_card)" in fast[1]
    assert [row[3:] for row in fast[0]["file_issues"]] == [
        (21, "amount 'abc' is not a number"),
        (22, "both debit and credit are filled"),
        (23, "expected 7 fields, found 5"),
        (24, "date is empty"),
        (25, "amount '92233720368547758.07' is too large: at most 999,999,999.99"),
    ]


def test_the_same_file_twice_in_one_run_loads_once_on_both_paths(tmp_path, monkeypatch):
    workspace = make_workspace(tmp_path / "twice")
    rows = "".join(
        f"2026-03-{day:02},2026-03-{day:02},2463,CAFE {day},Dining,4.50,\n" for day in range(1, 6)
    )
    content = (CAPITAL_ONE_HEADER + rows).encode()
    put_in_inbox(workspace, "alex", "march.csv", content)
    put_in_inbox(workspace, "alex", "march (1).csv", content)

    outcome = ingest_both_ways(workspace, tmp_path, monkeypatch)

    careful, fast = outcome["careful"], outcome["fast"]
    assert fast == careful
    assert "1 loaded, 0 rejected, 1 unchanged" in fast[1]
    assert len(fast[0]["transactions"]) == 5
    assert [row[1] for row in fast[0]["files"]] == ["csv_inbox/alex/march (1).csv"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("open_quote.csv", CAPITAL_ONE_HEADER + '2026-03-01,2026-03-02,2463,"CAFE,Dining,4.50,\n'),
        (
            "spanning_lines.csv",
            CAPITAL_ONE_HEADER + '2026-03-01,2026-03-02,2463,"CAFE\nLATTE",Dining,4.50,\n',
        ),
        ("lone_cr.csv", CAPITAL_ONE_HEADER + "2026-03-01,2026-03-02,2463,CAFE,Dining,4.50,\r"),
        (
            "mixed_line_ends.csv",
            CAPITAL_ONE_HEADER + "2026-03-01,2026-03-02,2463,CAFE,Dining,4.50,\r\n",
        ),
        ("nbsp.csv", CAPITAL_ONE_HEADER + "2026-03-01,2026-03-02,2463,CAFE\u00a0,Dining,4.50,\n"),
        ("stray_quote.csv", CAPITAL_ONE_HEADER + '2026-03-01,2026-03-02,2463,CA"FE,Dining,4.50,\n'),
        (
            "text_after_quote.csv",
            CAPITAL_ONE_HEADER + '2026-03-01,2026-03-02,2463,"CA"FE,Dining,4.50,\n',
        ),
    ],
)
def test_a_file_the_vectorised_path_cannot_vouch_for_is_read_carefully(
    tmp_path, monkeypatch, name, content
):
    workspace = make_workspace(tmp_path / "unsure")
    put_in_inbox(workspace, "alex", name, content.encode())

    outcome = ingest_both_ways(workspace, tmp_path, monkeypatch)

    assert outcome["vouched"] == []
    assert outcome["fast"] == outcome["careful"]
