"""Bad input is refused with a one-line reason a person can act on, the rest of the inbox loads,
nothing is a traceback, and the next run is not wedged (ingest only: no dbt needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import inbox, parse, vectorised

from support import file_counts, invoke, make_workspace, put_in_inbox, query

CAPITAL_ONE_HEADER = "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"
GOOD_EXPORT = CAPITAL_ONE_HEADER + "2026-03-01,2026-03-02,2463,CAFE,Dining,4.50,\n"
LONG = "X" * 10_000_000  # a 10 MB line


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    workspace = make_workspace(tmp_path / "workspace")
    put_in_inbox(workspace, "alex", "card_good.csv", GOOD_EXPORT.encode())
    return workspace


def ingest_output(workspace: Path, exit_code: int = 0) -> str:
    result = invoke("ingest", "--workspace", str(workspace))
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"\r\n  \r\n\r\n", "the file holds only blank lines"),
        (
            (CAPITAL_ONE_HEADER + f"2026-03-01,2026-03-02,2463,{LONG},Dining,4.50,\n").encode(),
            "line 2 is 10,000,040 characters long, more than the 131,072 a line of an export may"
            " hold; is this a bank export?",
        ),
        (
            (GOOD_EXPORT * 100 + f"2026-03-01,2026-03-02,2463,{LONG},Dining,4.50,\n").encode(),
            "line 201 is 10,000,040 characters long, more than the 131,072 a line of an export"
            " may hold; is this a bank export?",
        ),
    ],
    ids=["empty", "blank lines", "long line in the head", "long line further down"],
)
def test_a_file_that_is_no_export_is_refused_saying_why(workspace, content, reason):
    put_in_inbox(workspace, "alex", "odd.csv", content)
    output = ingest_output(workspace)
    assert "1 loaded, 1 rejected, 0 unchanged" in output
    assert f"rejected csv_inbox/alex/odd.csv: {reason}\n" in output
    assert query(workspace, "select count(*) from raw.transactions") == [(1,)]


def test_household_files_and_schemas_saved_in_the_windows_code_page_are_read(workspace):
    """Excel saves "CSV" in cp1252; an old editor does the same with YAML."""
    (workspace / "household/members.csv").write_bytes(
        "member_id,display_name,aliases\nalex,Alex,alex\nsam,Zoé Chen,zoé|sam\n".encode("cp1252")
    )
    (workspace / "rules").mkdir()
    (workspace / "rules/credit_mutuel.yaml").write_bytes(
        (
            "id: credit_mutuel\n"
            "description: Crédit Mutuel, relevé de compte\n"
            "match:\n  headers: [Date, Libellé, Montant]\n"
            "columns:\n  date: Date\n  description: Libellé\n  amount: Montant\n"
            "values:\n  date_format: '%d/%m/%Y'\n  decimal: ','\n"
        ).encode("cp1252")
    )
    export = "Date;Libellé;Montant\n02/03/2026;CAFÉ DE FLORE;-18,40\n"
    put_in_inbox(workspace, "sam", "releve.csv", export.encode("cp1252"))
    output = ingest_output(workspace)
    assert "2 loaded, 0 rejected, 0 unchanged" in output
    assert query(
        workspace, "select display_name from raw.household_members order by member_id"
    ) == [("Alex",), ("Zoé Chen",)]
    assert query(
        workspace,
        "select schema_id, owner_member_id, description, amount_cents from raw.transactions"
        " where schema_id = 'credit_mutuel'",
    ) == [("credit_mutuel", "sam", "CAFÉ DE FLORE", -1840)]


def test_split_weights_that_sum_to_zero_are_an_error_naming_the_row(workspace):
    """All zero, nobody would bear the cost of an expense under the policy."""
    (workspace / "household/split_policies.csv").write_text(
        "policy,member_id,weight,effective_from\n"
        "default,alex,1,\ndefault,sam,1,\n"
        "groceries,alex,0,2026-01-01\ngroceries,sam,0,2026-01-01\n"
    )
    output = ingest_output(workspace, exit_code=1)
    assert output == (
        "balance: household/split_policies.csv:4: the weights of policy 'groceries' from"
        " 2026-01-01 sum to 0; give someone a weight above 0\n"
    )
    (workspace / "household/split_policies.csv").write_text(
        "policy,member_id,weight,effective_from\n"
        "default,alex,1,\ndefault,sam,1,\n"
        "groceries,alex,0,2026-01-01\ngroceries,sam,1,2026-01-01\n"
    )
    assert "1 loaded, 0 rejected" in ingest_output(workspace)


def test_an_amount_too_large_for_the_ledger_is_a_bad_line_and_the_next_run_loads(workspace):
    """92233720368547758.07 fits a 64-bit integer of cents but no DECIMAL(18,2) of the models."""
    export = GOOD_EXPORT + "2026-03-02,2026-03-03,2463,TYPO,Dining,92233720368547758.07,\n"
    put_in_inbox(workspace, "alex", "card_typo.csv", export.encode())
    output = ingest_output(workspace)
    assert (
        "  csv_inbox/alex/card_typo.csv:3: amount '92233720368547758.07' is too large:"
        " at most 999,999,999.99"
    ) in output
    put_in_inbox(
        workspace, "alex", "card_typo.csv", export.replace("92233720368547758", "9").encode()
    )
    assert "1 loaded, 0 rejected, 1 unchanged" in ingest_output(workspace)
    assert file_counts(workspace) == [
        ("capital_one_card", 1, 1, 0, "{}"),
        ("capital_one_card", 2, 2, 0, "{}"),
    ]


def test_a_date_loaded_by_the_previous_version_is_removed_and_the_run_completes(
    workspace, monkeypatch
):
    """The previous version loaded year 9999, and every later build then failed. Its rows were
    derived by an earlier version, so the file is read again, refused, and its rows go."""
    typo = CAPITAL_ONE_HEADER + "9999-12-31,9999-12-31,2463,TYPO,Dining,4.50,\n"
    put_in_inbox(workspace, "alex", "card_typo.csv", typo.encode())
    with monkeypatch.context() as previous_version:
        previous_version.setattr(inbox, "DERIVATION_VERSION", "2")
        previous_version.setattr(parse, "date_out_of_range", lambda date, run_date: None)
        previous_version.setattr(vectorised, "date_out_of_range", lambda date, run_date: None)
        assert "2 loaded, 0 rejected" in ingest_output(workspace)
    assert query(workspace, "select count(*) from raw.transactions") == [(2,)]

    result = invoke("run", "--workspace", str(workspace))

    assert result.exit_code == 0, result.output
    assert (
        "rejected csv_inbox/alex/card_typo.csv: 1 bad line (schema capital_one_card); the rows"
        " it loaded before are removed"
    ) in result.output
    assert query(workspace, "select count(*) from raw.transactions") == [(1,)]
    assert (workspace / "output/balance_data.xlsx").is_file()


@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        (
            "members.csv",
            "member_id,display_name,aliases\nalex,Alex,alex\nsam,Sam,\\pL+ chen\n",
            "household/members.csv:3: aliases: '\\pL+ chen' is read while exports load, where"
            " bad escape \\p at position 0 (keep to plain syntax: no \\p{…} or [[:…:]] classes)",
        ),
        (
            "members.csv",
            "member_id,display_name,aliases\nalex,Alex,alex\n\nSam,Sam,sam\nsam,Sammy,\n",
            "household/members.csv:5: the same member_id sam as line 4",
        ),
        (
            "split_policies.csv",
            "policy,member_id,weight,effective_from\nDefault,alex,1,\n\n\ndefault,sam,1,\n"
            "rent,alex,0,2026-01-01\nRent,sam,0,2026-01-01\n",
            "household/split_policies.csv:6: the weights of policy 'rent' from 2026-01-01 sum"
            " to 0; give someone a weight above 0",
        ),
        (
            "split_policies.csv",
            "policy,member_id,weight,effective_from\ndefault,alex,1,\ndefault,sam,1,\n"
            "rent,alex,1,2026-01-01\nRent,Alex,2,2026-01-01\n",
            "household/split_policies.csv:5: the same policy rent, member_id alex,"
            " effective_from 2026-01-01 as line 4",
        ),
        (
            "accounts.csv",
            "account_pattern,member_id,account_label,file_pattern\n\n2463,alex,Savor,\n,sam,Lost,\n",
            "household/accounts.csv:4: account_pattern or file_pattern is required",
        ),
    ],
    ids=[
        "alias only RE2 reads",
        "member twice",
        "weights sum to 0",
        "policy row twice",
        "account row without pattern",
    ],
)
def test_household_mistakes_are_named_by_their_physical_line(
    workspace, file_name, content, message
):
    (workspace / "household" / file_name).write_text(content)
    output = ingest_output(workspace, exit_code=1)
    assert output == f"balance: {message}\n"
