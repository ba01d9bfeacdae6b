"""Long digit runs are masked in every output, but never inside a transaction id or a
file path: a user must be able to find the file and paste the id into `balance explain`."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.masking import mask_digit_runs, masked_sql

from support import invoke

# An id with a run of 11 digits in the demo: "d2c4a****1921" before ids were kept whole.
DISCOVER_PURCHASE = "d2c4a99541891921"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("card 4111111111111111", "card ****1111"),
        ("ACME PPD ID: 9876543210", "ACME PPD ID: ****3210"),
        ("copy of d2c4a99541891921: same day", "copy of d2c4a99541891921: same day"),
        ("(copy of d2c4a99541891921)", "(copy of d2c4a99541891921)"),
        ("7216115012345678", "****5678"),  # sixteen digits: a card, not an id
        (
            "csv_inbox/alex/Chase4821_Activity20260301_20260331.CSV, line 4",
            "csv_inbox/alex/Chase4821_Activity20260301_20260331.CSV, line 4",
        ),
        (
            "balance doctor Chase4821_Activity20260301.CSV",
            "balance doctor Chase4821_Activity20260301.CSV",
        ),
        ("DRAFT 12344410\nfile x_12345678.ofx", "DRAFT ****4410\nfile x_12345678.ofx"),
    ],
)
def test_digit_runs_are_masked_except_in_ids_and_paths(text, shown):
    assert mask_digit_runs(text) == shown


WORDS = st.sampled_from(
    [
        "4111111111111111",
        "d2c4a99541891921",
        "(d2c4a99541891921)",
        "csv_inbox/sam/March2026_12345678.csv",
        "Export_20260301123.OFX",
        "PPD",
        "ID:",
        "12345678,",
        "1234",
        "café",
        "",
    ]
)


@given(st.lists(WORDS, max_size=8))
def test_sql_masks_text_as_python_does(words):
    text = " ".join(words)
    with duckdb.connect() as connection:
        in_sql = connection.execute(f"select {masked_sql('v')} from (select ? as v)", [text])
        assert in_sql.fetchone()[0] == mask_digit_runs(text)


def test_explain_shows_the_id_and_the_file_whole(built_demo):
    result = invoke("explain", "--workspace", str(built_demo), DISCOVER_PURCHASE)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Transaction {DISCOVER_PURCHASE}"
    assert lines[3].startswith("  file      csv_inbox/sam/discover_it_2026.csv, line ")
