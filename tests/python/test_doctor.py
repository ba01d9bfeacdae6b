"""`balance doctor FILE` on the demo's files."""

from __future__ import annotations

from core.workspace import DEMO_WORKSPACE

from support import invoke


def doctor(path: str):
    return invoke("doctor", "--workspace", str(DEMO_WORKSPACE), str(DEMO_WORKSPACE / path))


def test_doctor_shows_how_a_file_reads_and_its_first_rows():
    result = doctor("csv_inbox/alex/chase_checking_statement_2026.csv")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:5] == [
        "file       csv_inbox/alex/chase_checking_statement_2026.csv",
        "encoding   utf-8",
        "delimiter  comma (',')",
        "header     line 1: Name,Institution,Account Type,Statement Start Date,Statement End "
        "Date,Transaction Date,Post Date,Description,Reference Number,Amount,Category",
        "rows       31 record(s) after the header",
    ]
    assert lines[6] == "  → chase_checking_statement        matches all 11 headers"
    assert "    chase_card                      missing headers: Type" in lines
    assert "verdict    schema chase_checking_statement: 31 row(s) would load" in lines
    assert lines[-5:] == [
        "  2     2026-04-01    3,200.00  alex    …6173    ACME CORP PAYROLL PPD ID: ****3210",
        "  3     2026-04-03   −2,119.72  alex    …6173    BRIDGEWATER APTS RENT WEB PMT",
        "  4     2026-04-15    3,200.00  alex    …6173    ACME CORP PAYROLL PPD ID: ****3210",
        "  5     2026-04-18      −96.42  alex    …6173    PG&E WEB ONLINE",
        "  6     2026-04-26     −237.08  alex    …6173    CAPITAL ONE AUTOPAY PYMT",
    ]


def test_doctor_says_why_no_schema_reads_a_file():
    result = doctor("csv_inbox/sam/sparkasse_umsaetze_2026.csv")

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[2:4] == [
        "delimiter  semicolon (';')",
        "header     line 1: Buchungstag;Valuta;Verwendungszweck;Betrag;Waehrung",
    ]
    assert lines[-3:] == [
        "verdict    not loadable: no schema matches; none shares a header with line 1 "
        "(Buchungstag, Valuta, Verwendungszweck, Betrag, Waehrung)",
        "next       balance doctor csv_inbox/sam/sparkasse_umsaetze_2026.csv --draft-schema "
        "writes a starter schema for this layout into rules/",
        "balance: this file would be rejected (see the verdict above)",
    ]
