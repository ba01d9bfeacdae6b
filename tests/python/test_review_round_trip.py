"""Answering Queue_Review in the workbook, then `balance run` (docs/rules.md#review-answers)."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from balance import pipeline
from ingest.answers import workbook_answers_fingerprint

from support import invoke, net_cents, query

JULY_PIZZA = "2026-07-12"  # Alex paid 45.10 at Joe's Pizza; the demo leaves it undecided
# What the workbook's Queue_Review looked like before the answer columns moved to the left.
PREVIOUS_QUEUE_HEADERS = (
    "txn_id", "Date", "Payer", "Account", "Description", "Merchant", "Category", "Amount",
    "Suggestion", "Shared?", "Payer share %", "Policy", "Note", "Not imported because",
)  # fmt: skip


def answer(workspace, date: str, workbook: str = "output/balance_data.xlsx", **cells) -> int:
    """Type answers into the Queue_Review row of the expense dated `date`, finding the
    columns by their headers; returns its row."""
    path = workspace / workbook
    book = openpyxl.load_workbook(path)
    sheet = book["Queue_Review"]
    columns = {cell.value: cell.column for cell in sheet[1]}
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, columns["Date"]).value.date().isoformat() == date:
            for header, value in cells.items():
                sheet.cell(row, columns[header]).value = value
            book.save(path)
            return row
    raise AssertionError(f"no queue row dated {date}")


def rewrite_in_previous_order(path) -> None:
    """Queue_Review as the previous version laid it out: the answer columns at the right,
    `Amount` for the cost, no Question. The hidden export record stays as it was written."""
    book = openpyxl.load_workbook(path)
    sheet = book["Queue_Review"]
    rows = [
        dict(zip([cell.value for cell in sheet[1]], values, strict=True))
        for values in sheet.iter_rows(min_row=2, values_only=True)
    ]
    index = book.sheetnames.index("Queue_Review")
    book.remove(sheet)
    previous = book.create_sheet("Queue_Review", index)
    previous.append(PREVIOUS_QUEUE_HEADERS)
    for row in rows:
        row["Amount"] = row["Cost"]
        previous.append([row[header] for header in PREVIOUS_QUEUE_HEADERS])
    book.save(path)


def journal_lines(workspace) -> list[dict]:
    with (workspace / "decisions/review_decisions.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    ("shared", "payer_share", "alex_gains_cents", "journal_sharing", "moved"),
    [
        # 45.10 / 2: Sam owes half
        ("Y", None, 2255, "shared", "Alex +22.55, Sam −22.55"),
        ("N", None, 0, "personal", "none"),  # Alex's alone: nothing moves
        # Alex bears 30 % = 13.53; Sam 70 % = 31.57
        ("S", 30, 3157, "split", "Alex +31.57, Sam −31.57"),
    ],
)
def test_an_answer_moves_the_balance_by_the_exact_cents(
    demo_copy, shared, payer_share, alex_gains_cents, journal_sharing, moved
):
    before = net_cents(demo_copy)
    answer(demo_copy, JULY_PIZZA, **{"Shared?": shared, "Payer share %": payer_share})

    result = invoke("run", "--workspace", str(demo_copy))

    assert result.exit_code == 0, result.output
    assert "imported 1 answer(s)" in result.output
    # The run says how the balance moved, and which answer moved it by how much.
    statement = f"Sam owes Alex ${6822.21 + alex_gains_cents / 100:,.2f}"
    lines = result.output.splitlines()
    assert (
        f"The balance moved: {moved} (now: {statement}; before: Sam owes Alex $6,822.21)"
    ) in lines
    assert "1 answer(s) imported, each moving it by:" in lines
    july_pizza = [line for line in lines if line.startswith(f"  {journal_sharing} ")]
    assert len(july_pizza) == 1
    assert july_pizza[0].startswith(
        f"  {journal_sharing:<13} 2026-07-12  SQ *JOES PIZZA  cost 45.10  → {moved}  ("
    )
    after = net_cents(demo_copy)
    assert after["alex"] - before["alex"] == alex_gains_cents
    assert after["sam"] - before["sam"] == -alex_gains_cents
    assert query(
        demo_copy,
        "select pending_review_count, pending_amount::varchar from marts.rpt_balance limit 1",
    ) == [(4, "181.30")]
    last = journal_lines(demo_copy)[-1]
    assert (last["sharing"], last["payer_share_pct"]) == (journal_sharing, str(payer_share or ""))
    assert last["decided_at"].endswith("Z")


def test_invalid_answers_are_reported_with_their_row_and_stay_pending(demo_copy):
    before = net_cents(demo_copy)
    journal_before = journal_lines(demo_copy)
    row = answer(demo_copy, JULY_PIZZA, **{"Shared?": "X"})
    other_row = answer(demo_copy, "2026-08-12", **{"Shared?": "S", "Payer share %": 150})

    result = invoke("run", "--workspace", str(demo_copy))

    assert result.exit_code == 0, result.output
    assert (
        f"warning: output/balance_data.xlsx:Queue_Review!row {row}: "
        "Shared? must be Y, N, S or D, not 'X'"
    ) in result.output
    assert (
        f"warning: output/balance_data.xlsx:Queue_Review!row {other_row}: "
        "Payer share % must be from 0 to 100, not 150"
    ) in result.output
    assert journal_lines(demo_copy) == journal_before
    assert net_cents(demo_copy) == before
    assert query(demo_copy, "select pending_review_count from marts.rpt_balance limit 1") == [(5,)]


def queue_row(workspace, row: int) -> dict:
    sheet = openpyxl.load_workbook(workspace / "output/balance_data.xlsx")["Queue_Review"]
    header = [cell.value for cell in sheet[1]]
    return dict(zip(header, [cell.value for cell in sheet[row]], strict=True))


def test_answers_that_cannot_be_used_are_kept_with_their_reason_until_fixed(demo_copy):
    pizza = answer(demo_copy, JULY_PIZZA, **{"Shared?": "X"})
    noodles = answer(demo_copy, "2026-08-21", **{"Note": "ask Sam"})  # Shared? left blank
    answer(demo_copy, "2026-05-12", **{"Shared?": "N"})  # a usable one: the run rewrites
    first = invoke("run", "--workspace", str(demo_copy))
    assert first.exit_code == 0, first.output
    pizza_id = queue_row(demo_copy, pizza)["txn_id"]
    noodles_id = queue_row(demo_copy, noodles)["txn_id"]
    blank_reason = "Shared? is blank: the other cells count once it says Y, N, S or D"
    assert (
        f"warning: output/balance_data.xlsx:Queue_Review!row {noodles}: {blank_reason} "
        "(kept in the workbook until it is fixed)"
    ) in first.output

    # The rewritten workbook shows them again, as typed, with the reason beside them.
    assert queue_row(demo_copy, pizza)["Shared?"] == "X"
    assert queue_row(demo_copy, pizza)["Not imported because"] == (
        "Shared? must be Y, N, S or D, not 'X'"
    )
    assert (queue_row(demo_copy, noodles)["Note"], queue_row(demo_copy, noodles)["Shared?"]) == (
        "ask Sam",
        None,
    )
    status = invoke("status", "--workspace", str(demo_copy)).output
    assert (
        f"answer not imported: {pizza_id} in output/balance_data.xlsx: "
        "Shared? must be Y, N, S or D, not 'X'"
    ) in status
    assert (
        f"answer not imported: {noodles_id} in output/balance_data.xlsx: {blank_reason}" in status
    )
    check = invoke("check", "--workspace", str(demo_copy))
    assert "Answers in Queue_Review that could not be used (2):" in check.output
    assert check.exit_code == 1

    # Unchanged, they are not warned about again; fixed, the answer counts.
    before = net_cents(demo_copy)
    answer(demo_copy, JULY_PIZZA, **{"Shared?": "Y"})
    second = invoke("run", "--workspace", str(demo_copy))
    assert "imported 1 answer(s)" in second.output
    assert "Queue_Review!row" not in second.output
    assert net_cents(demo_copy)["alex"] - before["alex"] == 2255  # half of 45.10
    assert (
        "answer not imported: " + pizza_id
        not in invoke("status", "--workspace", str(demo_copy)).output
    )


def test_answers_are_imported_when_the_hidden_export_record_is_lost(demo_copy):
    """A program that drops hidden sheets saved the workbook: _Export is gone."""
    before = net_cents(demo_copy)
    answer(demo_copy, JULY_PIZZA, **{"Shared?": "Y"})
    path = demo_copy / "output/balance_data.xlsx"
    book = openpyxl.load_workbook(path)
    book.remove(book["_Export"])
    book.save(path)

    result = invoke("run", "--workspace", str(demo_copy))

    assert result.exit_code == 0, result.output
    assert (
        "warning: output/balance_data.xlsx: the hidden _Export sheet is gone (saved by a program "
        "that drops hidden sheets?), so every filled answer on a row still waiting for review "
        "counts as typed"
    ) in result.output
    assert "imported 1 answer(s)" in result.output
    assert net_cents(demo_copy)["alex"] - before["alex"] == 2255


def test_an_unchanged_workbook_adds_nothing_to_the_journal(demo_copy):
    journal_before = (demo_copy / "decisions/review_decisions.csv").read_bytes()
    result = invoke("review", "import", "--workspace", str(demo_copy))
    assert result.exit_code == 0, result.output
    assert "imported 0 answer(s)" in result.output
    assert (demo_copy / "decisions/review_decisions.csv").read_bytes() == journal_before


def test_decisions_survive_deleting_the_warehouse(demo_copy):
    answer(demo_copy, JULY_PIZZA, **{"Shared?": "Y"})
    assert invoke("run", "--workspace", str(demo_copy)).exit_code == 0
    expected = net_cents(demo_copy)
    for generated in ("warehouse/balance.duckdb", "output/balance_data.xlsx", "logs/last_run.json"):
        (demo_copy / generated).unlink()

    result = invoke("run", "--workspace", str(demo_copy))

    assert result.exit_code == 0, result.output
    assert net_cents(demo_copy) == expected == {"alex": 684476, "sam": -684476}


def recorded_workbook_stat(workspace) -> list[int]:
    state = json.loads((workspace / "logs/last_run.json").read_text(encoding="utf-8"))
    return state["workbook_stat"]


def file_stat(path) -> list[int]:
    stat = path.stat()
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


def forbid_reading_the_workbook(monkeypatch) -> None:
    """From here on, reading the workbook's answers fails the test."""

    def fail(path):
        raise AssertionError(f"{path} was read")

    monkeypatch.setattr(pipeline, "workbook_answers_fingerprint", fail)


def test_the_recorded_answers_are_those_of_the_written_workbook(built_demo):
    """The export records the fingerprint of the blank answers it wrote without reading the
    workbook back; reading it gives the same."""
    state = json.loads((built_demo / "logs/last_run.json").read_text(encoding="utf-8"))
    workbook = built_demo / "output/balance_data.xlsx"
    queue_rows = openpyxl.load_workbook(workbook, read_only=True)["Queue_Review"].max_row - 1
    assert queue_rows == 5  # the demo's five pending questions
    assert state["workbook_answers"] == workbook_answers_fingerprint(workbook)


def test_a_workbook_as_the_export_wrote_it_is_not_read_again(demo_copy, monkeypatch):
    workbook = demo_copy / "output/balance_data.xlsx"
    # A copied workbook is another file (inode, change time): the first run reads it once.
    assert recorded_workbook_stat(demo_copy) != file_stat(workbook)
    assert invoke("run", "--workspace", str(demo_copy)).exit_code == 0
    assert recorded_workbook_stat(demo_copy) == file_stat(workbook)
    forbid_reading_the_workbook(monkeypatch)

    result = invoke("run", "--workspace", str(demo_copy), "--debug")

    assert result.exit_code == 0, result.output
    assert "debug: output/balance_data.xlsx is as last recorded; not read" in result.output
    assert "Nothing changed since the last run" in result.output


def test_an_answer_saved_after_a_run_is_imported_once(demo_copy, monkeypatch):
    before = net_cents(demo_copy)
    answer(demo_copy, JULY_PIZZA, **{"Shared?": "Y"})
    workbook = demo_copy / "output/balance_data.xlsx"
    assert recorded_workbook_stat(demo_copy) != file_stat(workbook)

    result = invoke("run", "--workspace", str(demo_copy))

    assert result.exit_code == 0, result.output
    assert "imported 1 answer(s)" in result.output
    assert net_cents(demo_copy)["alex"] - before["alex"] == 2255
    assert recorded_workbook_stat(demo_copy) == file_stat(workbook)  # the new export's
    journal = journal_lines(demo_copy)
    forbid_reading_the_workbook(monkeypatch)
    again = invoke("run", "--workspace", str(demo_copy))
    assert again.exit_code == 0, again.output
    assert "Nothing changed since the last run" in again.output
    assert journal_lines(demo_copy) == journal


def test_a_workbook_saved_without_answers_is_read_once(demo_copy, monkeypatch):
    workbook = demo_copy / "output/balance_data.xlsx"
    journal = journal_lines(demo_copy)
    openpyxl.load_workbook(workbook).save(workbook)  # opened and saved, nothing typed

    result = invoke("run", "--workspace", str(demo_copy))

    assert result.exit_code == 0, result.output
    assert "Nothing changed since the last run" in result.output
    assert "imported" not in result.output
    assert journal_lines(demo_copy) == journal
    assert recorded_workbook_stat(demo_copy) == file_stat(workbook)
    forbid_reading_the_workbook(monkeypatch)
    assert "Nothing changed" in invoke("run", "--workspace", str(demo_copy)).output


def test_a_percentage_typed_in_excel_means_that_many_percent(demo_copy):
    """Excel stores "30%" typed into a cell as 0.3 and formats the cell as a percentage."""
    before = net_cents(demo_copy)
    row = answer(demo_copy, JULY_PIZZA, **{"Shared?": "S", "Payer share %": 0.3})
    path = demo_copy / "output/balance_data.xlsx"
    book = openpyxl.load_workbook(path)
    book["Queue_Review"].cell(row, 2).number_format = "0%"  # B: Payer share %
    book.save(path)

    result = invoke("run", "--workspace", str(demo_copy))

    assert result.exit_code == 0, result.output
    assert journal_lines(demo_copy)[-1]["payer_share_pct"] == "30"
    # Alex bears 30 % of 45.10 = 13.53; Sam owes the other 31.57.
    assert net_cents(demo_copy)["alex"] - before["alex"] == 3157


def test_answers_typed_into_the_side_workbook_are_imported_by_the_next_run(demo_copy):
    """Excel held balance_data.xlsx during a run, so the new workbook went beside it."""
    before = net_cents(demo_copy)
    lock = demo_copy / "output/~$balance_data.xlsx"
    lock.write_bytes(b"owner")
    exported = invoke("export", "--workspace", str(demo_copy))
    side = re.search(r"output/balance_data \(new [-\d]+ \d{6}\)\.xlsx", exported.output).group()
    lock.unlink()
    answer(demo_copy, JULY_PIZZA, side, **{"Shared?": "Y"})

    result = invoke("run", "--workspace", str(demo_copy))

    assert result.exit_code == 0, result.output
    assert f"imported 1 answer(s) from {side} into decisions/review_decisions.csv" in result.output
    assert net_cents(demo_copy)["alex"] - before["alex"] == 2255  # half of 45.10
    journal = journal_lines(demo_copy)
    again = invoke("run", "--workspace", str(demo_copy))
    assert "imported" not in again.output  # read once
    assert journal_lines(demo_copy) == journal


PREVIOUS_ORDER_ANSWERS = {
    JULY_PIZZA: {"Shared?": "Y", "Note": "pizza night"},
    "2026-08-12": {"Shared?": "S", "Payer share %": 30, "Policy": "default"},
    "2026-08-21": {"Shared?": "N"},
}


def imported_lines(workspace) -> list[tuple]:
    """The journal lines `balance review import` appends for PREVIOUS_ORDER_ANSWERS, without
    their decided_at."""
    before = len(journal_lines(workspace))
    for date, cells in PREVIOUS_ORDER_ANSWERS.items():
        answer(workspace, date, **cells)
    result = invoke("review", "import", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    assert "imported 3 answer(s)" in result.output
    return [
        tuple(value for key, value in line.items() if key != "decided_at")
        for line in journal_lines(workspace)[before:]
    ]


def test_an_answer_file_in_the_previous_column_order_imports_the_same_lines(demo_copy, tmp_path):
    """Readers find Queue_Review's columns by name: answers typed into a workbook laid
    out as the previous version wrote it give the journal the same lines."""
    queue = openpyxl.load_workbook(demo_copy / "output/balance_data.xlsx")["Queue_Review"]
    assert [cell.value for cell in queue[1]][:5] == [
        "Shared?", "Payer share %", "Policy", "Note", "Question",
    ]  # fmt: skip
    previous = Path(shutil.copytree(demo_copy, tmp_path / "previous"))
    rewrite_in_previous_order(previous / "output/balance_data.xlsx")
    queue = openpyxl.load_workbook(previous / "output/balance_data.xlsx")["Queue_Review"]
    assert [cell.value for cell in queue[1]] == list(PREVIOUS_QUEUE_HEADERS)

    lines = imported_lines(demo_copy)

    assert imported_lines(previous) == lines
    assert [line[1:] for line in lines] == [  # in the sheet's order: newest first
        ("personal", "", "", ""),
        ("split", "30", "default", ""),
        ("shared", "", "", "pizza night"),
    ]
