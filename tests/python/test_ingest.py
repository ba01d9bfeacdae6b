"""Ingest on small workspaces written at test time (no dbt needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import invoke, make_workspace, query

CAPITAL_ONE_HEADER = "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    workspace = make_workspace(tmp_path)
    (workspace / "csv_inbox/alex").mkdir(parents=True)
    return workspace


def test_a_bad_line_rejects_its_file_and_the_rest_loads(workspace):
    (workspace / "csv_inbox/alex/card_good.csv").write_text(
        CAPITAL_ONE_HEADER + "2026-03-01,2026-03-02,2463,CAFE,Dining,4.50,\n"
    )
    (workspace / "csv_inbox/alex/card_bad.csv").write_text(
        CAPITAL_ONE_HEADER
        + "2026-03-01,2026-03-02,2463,CAFE,Dining,4.50,\n"
        + "2026-03-02,2026-03-03,2463,CAFE,Dining,abc,\n"
        + "2026-03-03,2026-03-04,2463,CAFE,Dining,1.00,2.00\n"
    )

    result = invoke("ingest", "--workspace", str(workspace))

    assert result.exit_code == 0, result.output
    assert "1 loaded, 1 rejected, 0 unchanged" in result.output
    assert "rejected csv_inbox/alex/card_bad.csv: 2 bad lines (schema capital_one_card)" in (
        result.output
    )
    assert "  csv_inbox/alex/card_bad.csv:3: amount 'abc' is not a number" in result.output
    assert "  csv_inbox/alex/card_bad.csv:4: both debit and credit are filled" in result.output
    assert query(workspace, "select file_path, count(*) from raw.transactions group by 1") == [
        ("csv_inbox/alex/card_good.csv", 1)
    ]
    assert query(workspace, "select line_number, reason from raw.file_issues order by 1") == [
        (3, "amount 'abc' is not a number"),
        (4, "both debit and credit are filled"),
    ]
    assert (workspace / "csv_inbox/alex/card_bad.csv").exists()


def test_strict_makes_a_rejected_file_exit_3(workspace):
    (workspace / "csv_inbox/alex/unknown.csv").write_text("Foo,Bar\n1,2\n")
    result = invoke("ingest", "--workspace", str(workspace), "--strict")
    assert result.exit_code == 3
    assert "balance: 1 file(s) rejected (--strict)" in result.output


def test_an_overlapping_download_adds_only_new_transactions(workspace):
    march = (
        "2026-03-01,2026-03-02,2463,CAFE,Dining,4.50,\n"
        "2026-03-01,2026-03-02,2463,CAFE,Dining,4.50,\n"
        "2026-03-05,2026-03-06,2463,BOOKS,Shopping,12.00,\n"
    )
    (workspace / "csv_inbox/alex/card_march.csv").write_text(CAPITAL_ONE_HEADER + march)
    (workspace / "csv_inbox/alex/card_march_april.csv").write_text(
        CAPITAL_ONE_HEADER + march + "2026-04-02,2026-04-03,2463,CAFE,Dining,4.50,\n"
    )

    result = invoke("ingest", "--workspace", str(workspace))

    assert result.exit_code == 0, result.output
    assert query(workspace, "select count(*), count(distinct txn_id) from raw.transactions") == [
        (7, 4)
    ]  # 3 + 4 rows read; the two identical coffees stay two transactions


def test_a_row_without_owner_rejects_its_file_naming_the_line(workspace):
    (workspace / "csv_inbox/joint.csv").write_text(
        "Date,Merchant,Category,Account,Original Statement,Notes,Amount,Tags\n"
        "2026-03-01,Cafe,Dining,Mystery Card (...9999),CAFE,,-4.50,\n"
    )
    result = invoke("ingest", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    assert (
        "  csv_inbox/joint.csv:2: no owner: no member column, no accounts.csv row matches "
        "'Mystery Card (...9999)' or the file's name, and the file is not in a member's inbox "
        "folder"
    ) in result.output


def test_invalid_household_configuration_is_an_error_naming_file_and_row(workspace):
    (workspace / "household/sharing_rules.csv").write_text(
        "rule_id,merchant,category,description,account,member,min_cost,max_cost,sharing,policy,"
        "payer_share_pct\nbad,(,,,,,,,shared,,\nworse,,,,,,,,sometimes,,\n"
    )
    result = invoke("ingest", "--workspace", str(workspace))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(
        "balance: household/sharing_rules.csv:2: merchant: invalid regex '('"
    )
    assert lines[1] == (
        "household/sharing_rules.csv:3: sharing: 'sometimes' is not one of "
        "shared, personal, split, settlement, transfer, ignore"
    )


def test_a_quote_left_open_rejects_only_its_file(workspace):
    rows = "".join(f"2026-03-01,2026-03-02,2463,CAFE {n},Dining,4.50,\n" for n in range(3000))
    (workspace / "csv_inbox/alex/card_good.csv").write_text(CAPITAL_ONE_HEADER + rows)
    (workspace / "csv_inbox/alex/card_open_quote.csv").write_text(
        CAPITAL_ONE_HEADER + '2026-03-01,2026-03-02,2463,"CAFE,Dining,4.50,\n' + rows
    )

    result = invoke("ingest", "--workspace", str(workspace))

    assert result.exit_code == 0, result.output
    assert (
        "rejected csv_inbox/alex/card_open_quote.csv: line 2: the record cannot be split into "
        "fields (field larger than field limit (131072)); is a quote left open?"
    ) in result.output
    assert query(workspace, "select count(*) from raw.transactions") == [(3000,)]
