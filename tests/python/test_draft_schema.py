"""`balance doctor FILE --draft-schema`: a starter schema, sniffed from a layout no schema
reads, that loads the file exactly once it is in rules/ (ingest only: no dbt needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.workspace import Workspace
from ingest.doctor import write_draft_schema
from ingest.draft_schema import DraftError

from support import ingest, invoke, make_workspace, put_in_inbox, query

SPARKASSE = (
    "Buchungstag;Valuta;Buchungstext;Betrag;Saldo\n"
    "02.03.2026;03.03.2026;BLUE BOTTLE COFFEE;-4,50;995,50\n"
    "06.03.2026;06.03.2026;GLOBEX PAYROLL SALARY;2.850,00;3.845,50\n"
    "13.03.2026;14.03.2026;CINEMA;-12,00;3.833,50\n"
)
HARBOR = (
    "Date,Description,Check Number,Withdrawals,Deposits\n"
    "03/02/2026,BLUE BOTTLE,,4.50,\n"
    "03/06/2026,GLOBEX PAYROLL,,,2850.00\n"
    "03/13/2026,CHECK 1001,1001,120.00,\n"
)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "workspace")


def loaded(workspace: Path) -> list[tuple]:
    return query(
        workspace,
        "select line_number, transaction_date::varchar, amount_cents, description, schema_id"
        " from raw.transactions order by line_number",
    )


def test_a_drafted_schema_reads_a_semicolon_file_with_decimal_commas(workspace):
    path = put_in_inbox(workspace, "sam", "Umsaetze_2026-03.csv", SPARKASSE.encode())
    assert "1 rejected" in ingest(workspace)

    written = write_draft_schema(Workspace(workspace), path)

    assert written == workspace / "rules/umsaetze.yaml"
    draft = written.read_text()
    assert "date: Buchungstag\n  posted_date: Valuta\n  description: Buchungstext\n" in draft
    assert "  amount: Betrag\n  balance: Saldo\n" in draft
    assert "  date_format: '%d.%m.%Y'\n  decimal: ','\n" in draft
    assert "1 loaded, 0 rejected" in ingest(workspace)
    assert loaded(workspace) == [
        (2, "2026-03-02", -450, "BLUE BOTTLE COFFEE", "umsaetze"),
        (3, "2026-03-06", 285000, "GLOBEX PAYROLL SALARY", "umsaetze"),
        (4, "2026-03-13", -1200, "CINEMA", "umsaetze"),
    ]


def test_withdrawal_and_deposit_columns_become_debit_and_credit(workspace):
    path = put_in_inbox(workspace, "sam", "harbor_march.csv", HARBOR.encode())
    write_draft_schema(Workspace(workspace), path)
    assert "1 loaded, 0 rejected" in ingest(workspace)
    assert loaded(workspace) == [
        (2, "2026-03-02", -450, "BLUE BOTTLE", "harbor_march"),
        (3, "2026-03-06", 285000, "GLOBEX PAYROLL", "harbor_march"),
        (4, "2026-03-13", -12000, "CHECK 1001", "harbor_march"),
    ]


def test_a_file_without_header_is_drafted_by_position_and_name(workspace):
    export = "2026-03-02,-4.50,BLUE BOTTLE\n2026-03-06,2850.00,GLOBEX PAYROLL\n"
    path = put_in_inbox(workspace, "sam", "export9911.txt", export.encode())
    written = write_draft_schema(Workspace(workspace), path)
    assert "  header: false\n" in written.read_text()
    assert "1 loaded, 0 rejected" in ingest(workspace)
    assert [row[:3] for row in loaded(workspace)] == [
        (1, "2026-03-02", -450),
        (2, "2026-03-06", 285000),
    ]


def test_an_existing_schema_is_never_overwritten(workspace):
    path = put_in_inbox(workspace, "sam", "harbor_march.csv", HARBOR.encode())
    first = write_draft_schema(Workspace(workspace), path)
    second = write_draft_schema(Workspace(workspace), path)
    assert second == workspace / "rules/harbor_march_2.yaml"
    assert "\nid: harbor_march_2\n" in second.read_text()
    assert "\nid: harbor_march\n" in first.read_text()


def test_a_file_without_dates_cannot_be_drafted(workspace):
    path = put_in_inbox(workspace, "sam", "notes.csv", b"Item,Price\nBread,2.50\nMilk,1.20\n")
    with pytest.raises(DraftError, match="^no column reads as dates in one format$"):
        write_draft_schema(Workspace(workspace), path)


def test_doctor_points_at_the_draft_for_a_layout_no_schema_reads(workspace):
    path = put_in_inbox(workspace, "sam", "Umsaetze_2026-03.csv", SPARKASSE.encode())
    result = invoke("doctor", "--workspace", str(workspace), str(path))
    assert result.exit_code == 1
    assert (
        "next       balance doctor csv_inbox/sam/Umsaetze_2026-03.csv --draft-schema writes a"
        " starter schema for this layout into rules/"
    ) in result.output.splitlines()


def test_the_doctor_command_writes_the_draft_or_says_why_not(workspace):
    path = put_in_inbox(workspace, "sam", "Umsaetze_2026-03.csv", SPARKASSE.encode())
    notes = put_in_inbox(workspace, "sam", "notes.csv", b"Item,Price\nBread,2.50\n")

    drafted = invoke("doctor", "--workspace", str(workspace), str(path), "--draft-schema")
    refused = invoke("doctor", "--workspace", str(workspace), str(notes), "--draft-schema")

    assert drafted.exit_code == 0, drafted.output
    assert drafted.output == (
        f"wrote rules/umsaetze.yaml: check it, then `balance doctor {path}`\n"
    )
    assert refused.exit_code == 1
    assert refused.output == (
        "balance: cannot draft a schema from csv_inbox/sam/notes.csv: no column reads as dates"
        " in one format\n"
    )
