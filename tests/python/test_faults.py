"""Damaged outputs and folders: a one-line reason, nothing the user made is lost, and the
next run is not wedged."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from balance.run_state import read_run_state

from support import invoke

WORKBOOK = "output/balance_data.xlsx"
JOURNAL = "decisions/review_decisions.csv"
LAST_RUN = "logs/last_run.json"
NOTHING_CHANGED = "Nothing changed since the last run; outputs are up to date."
STATEMENT = "Sam owes Alex $6,822.21"


def run(workspace: Path, *args: str):
    result = invoke(*args, "--workspace", str(workspace))
    assert "Traceback" not in result.output, result.output
    return result


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def a_zip_that_is_not_a_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")
    return buffer.getvalue()


# 1. logs/last_run.json, which `status` reads and every run rewrites

TRUNCATED_LAST_RUN = '{\n  "balance": {\n    "alex": "6822.21",\n    "sam'
NO_LAST_RUN = "going on as if there were no last run (`balance run` writes it anew)"


def with_wrong_types(workspace: Path) -> str:
    state = json.loads((workspace / LAST_RUN).read_text(encoding="utf-8"))
    state |= {"build": "passed", "kept_answers": ["not", "a", "map"], "warnings": 3}
    return json.dumps(state)


@pytest.mark.parametrize(
    ("damage", "warning"),
    [
        (
            lambda workspace: TRUNCATED_LAST_RUN,
            "warning: logs/last_run.json is not valid JSON (Unterminated string starting at: "
            f"line 4 column 5 (char 44)); {NO_LAST_RUN}",
        ),
        (
            lambda workspace: "[1, 2]",
            f"warning: logs/last_run.json does not hold a JSON object; {NO_LAST_RUN}",
        ),
        (
            with_wrong_types,
            "warning: logs/last_run.json has values of the wrong type for build, kept_answers, "
            "warnings; going on without them (`balance run` writes it anew)",
        ),
    ],
    ids=["truncated", "not an object", "wrong types"],
)
def test_status_reads_a_damaged_last_run_record_as_far_as_it_can(demo_copy, damage, warning):
    (demo_copy / LAST_RUN).write_text(damage(demo_copy), encoding="utf-8")

    result = run(demo_copy, "status")
    as_json = run(demo_copy, "status", "--json")

    if "wrong type" in warning:  # the rest of the record still reads
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[0] == warning
        assert result.stdout.splitlines()[0].startswith(STATEMENT)  # the warning: stderr
        assert json.loads(as_json.stdout)["statement"] == STATEMENT
    else:
        assert result.exit_code == 1
        assert result.output.splitlines() == [
            warning,
            f"balance: no completed run in {demo_copy} yet: run `balance run` first",
        ]
        assert as_json.exit_code == 1
    assert result.output.count("warning: logs/last_run.json") == 1


def test_run_rewrites_a_damaged_last_run_record(demo_copy):
    (demo_copy / LAST_RUN).write_text(TRUNCATED_LAST_RUN, encoding="utf-8")

    result = run(demo_copy, "run")

    assert result.exit_code == 0, result.output
    assert result.output.count("warning: logs/last_run.json is not valid JSON") == 1
    assert result.output.strip().endswith(STATEMENT)
    assert read_run_state(demo_copy / LAST_RUN)[1] is None  # whole again
    status = run(demo_copy, "status")
    assert status.exit_code == 0, status.output
    assert "last_run.json" not in status.output
    again = run(demo_copy, "run")
    assert again.exit_code == 0, again.output
    assert NOTHING_CHANGED in again.output


# 2. output/balance_data.xlsx that is no workbook at all

NOT_A_ZIP = "cannot be read as an .xlsx workbook (File is not a zip file)"
DAMAGED_WORKBOOKS = {
    "garbage bytes": (bytes(range(256)) * 12, NOT_A_ZIP),
    "a CSV renamed .xlsx": (b"txn_id,Shared?\nc0c8a72b202d34d4,Y\n", NOT_A_ZIP),
    "a zip that is not a workbook": (
        a_zip_that_is_not_a_workbook(),
        "cannot be read as an .xlsx workbook "
        "(There is no item named '[Content_Types].xml' in the archive)",
    ),
}
SET_ASIDE = re.compile(
    r"output/balance_data\.unreadable-\d{8}T\d{6}Z\.xlsx"
)  # beside the workbook, named by the UTC time it was set aside


def set_aside_warning(reason: str, aside: str) -> str:
    return (
        f"warning: {WORKBOOK} {reason}, so its answers cannot be imported: the file is kept as "
        f"{aside} (once it reads, the next `balance run` imports its answers) and a new "
        "workbook takes its place"
    )


@pytest.mark.parametrize("kind", DAMAGED_WORKBOOKS)
def test_review_import_of_a_damaged_workbook_fails_and_keeps_it(demo_copy, kind):
    content, reason = DAMAGED_WORKBOOKS[kind]
    (demo_copy / WORKBOOK).write_bytes(content)
    journal = digest(demo_copy / JOURNAL)

    result = run(demo_copy, "review", "import")

    assert result.exit_code == 1
    assert result.output == f"balance: {WORKBOOK} {reason}; nothing was imported\n"
    assert (demo_copy / WORKBOOK).read_bytes() == content
    assert digest(demo_copy / JOURNAL) == journal


def test_run_sets_a_damaged_workbook_aside_and_writes_a_new_one(demo_copy):
    content, reason = DAMAGED_WORKBOOKS["garbage bytes"]
    (demo_copy / WORKBOOK).write_bytes(content)
    journal = digest(demo_copy / JOURNAL)

    result = run(demo_copy, "run")

    assert result.exit_code == 0, result.output
    aside = SET_ASIDE.search(result.output).group()
    assert set_aside_warning(reason, aside) in result.output.splitlines()
    assert (demo_copy / aside).read_bytes() == content
    assert "Queue_Review" in openpyxl.load_workbook(demo_copy / WORKBOOK).sheetnames
    assert digest(demo_copy / JOURNAL) == journal
    again = run(demo_copy, "run")
    assert again.exit_code == 0, again.output
    assert NOTHING_CHANGED in again.output
    assert "cannot be read" not in again.output  # the file set aside is read once it changes


# 3. Queue_Review renamed, or its answer column


def rename_queue_sheet(book) -> None:
    book["Queue_Review"].title = "Review"


def rename_shared_header(book) -> None:
    sheet = book["Queue_Review"]
    next(cell for cell in sheet[1] if cell.value == "Shared?").value = "Shared"


def edit_workbook(path: Path, change) -> None:
    book = openpyxl.load_workbook(path)
    change(book)
    book.save(path)


def type_answer(book, header: str = "Shared?") -> str:
    """Y on the first queue row; returns its txn_id."""
    sheet = book["Queue_Review"]
    columns = {cell.value: cell.column for cell in sheet[1]}
    sheet.cell(2, columns[header]).value = "Y"
    return sheet.cell(2, columns["txn_id"]).value


@pytest.mark.parametrize(
    ("rename", "reason"),
    [
        (
            rename_queue_sheet,
            "has no sheet named Queue_Review (its sheets: Summary, Review, Transactions, "
            "Shared_Ledger, Monthly, Data_Quality, Balance_History, _Export)",
        ),
        (rename_shared_header, "has no column Shared? in the first row of Queue_Review"),
    ],
    ids=["sheet", "header"],
)
def test_review_import_names_the_renamed_sheet_or_header(demo_copy, rename, reason):
    edit_workbook(demo_copy / WORKBOOK, rename)
    before = digest(demo_copy / WORKBOOK)

    result = run(demo_copy, "review", "import")

    assert result.exit_code == 1
    assert result.output == f"balance: {WORKBOOK} {reason}; nothing was imported\n"
    assert digest(demo_copy / WORKBOOK) == before


def test_run_keeps_answers_under_a_renamed_header_until_they_can_be_read(demo_copy):
    txn_id = None

    def answer_then_rename(book):
        nonlocal txn_id
        txn_id = type_answer(book)
        rename_shared_header(book)

    edit_workbook(demo_copy / WORKBOOK, answer_then_rename)
    typed = digest(demo_copy / WORKBOOK)
    journal = digest(demo_copy / JOURNAL)

    result = run(demo_copy, "run")

    assert result.exit_code == 0, result.output
    aside = SET_ASIDE.search(result.output).group()
    reason = "has no column Shared? in the first row of Queue_Review"
    assert set_aside_warning(reason, aside) in result.output.splitlines()
    assert digest(demo_copy / aside) == typed  # the answer is in it, as typed
    assert digest(demo_copy / JOURNAL) == journal
    again = run(demo_copy, "run")
    assert again.exit_code == 0, again.output
    assert NOTHING_CHANGED in again.output

    # Put right, the file set aside gives its answer.
    edit_workbook(demo_copy / aside, lambda book: rename_shared_header_back(book))
    imported = run(demo_copy, "review", "import", str(demo_copy / aside))
    assert imported.exit_code == 0, imported.output
    assert f"imported 1 answer(s) from {aside} into {JOURNAL}" in imported.output
    last_line = (demo_copy / JOURNAL).read_text(encoding="utf-8").splitlines()[-1]
    assert last_line.startswith(f"{txn_id},shared,")


def rename_shared_header_back(book) -> None:
    next(cell for cell in book["Queue_Review"][1] if cell.value == "Shared").value = "Shared?"


# 4. review import of a file that is not a workbook


def test_review_import_of_a_file_that_is_not_a_workbook_is_a_one_line_error(demo_copy):
    answers_as_csv = demo_copy / "answers.csv"
    answers_as_csv.write_text("txn_id,Shared?\nc0c8a72b202d34d4,Y\n", encoding="utf-8")
    journal = digest(demo_copy / JOURNAL)

    not_xlsx = run(demo_copy, "review", "import", str(answers_as_csv))
    missing = run(demo_copy, "review", "import", "no_such_answers.xlsx")

    assert not_xlsx.exit_code == 1
    assert not_xlsx.output == (
        "balance: answers.csv is not an Excel workbook (.xlsx); nothing was imported\n"
    )
    assert missing.exit_code == 1
    assert missing.output == "balance: no_such_answers.xlsx: no such file\n"
    assert answers_as_csv.exists()
    assert digest(demo_copy / JOURNAL) == journal
    after = run(demo_copy, "run")
    assert after.exit_code == 0, after.output


# 5. an output folder that cannot take files


def replace_by_a_file(output: Path) -> None:
    output.rename(output.with_name("output.moved"))
    output.write_text("the user's notes, saved where the folder was\n", encoding="utf-8")


def make_immutable(output: Path) -> None:
    # Root passes every permission check, so only an immutable folder refuses root. (A 0555
    # folder of the user's own is no fault: balance makes its folders 0700 again.)
    # The suite runs as root (it installs LibreOffice), on a file system with the attribute.
    assert os.geteuid() == 0 and shutil.which("chattr"), "an immutable folder needs root"
    subprocess.run(["chattr", "+i", str(output)], check=True, capture_output=True)


def put_right(output: Path) -> None:
    if output.is_file():  # the user moves their file away and the folder back
        output.rename(output.with_name("notes.txt"))
        output.with_name("output.moved").rename(output)
    else:
        subprocess.run(["chattr", "-i", str(output)], check=True)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            replace_by_a_file,
            "balance: output is a file, but balance writes its outputs into a folder of that "
            "name: move the file away, then run again",
        ),
        pytest.param(
            make_immutable,
            "balance: cannot write into the folder output/ (Operation not permitted): make it "
            "writable by you, then run again",
            marks=pytest.mark.system,  # chattr, as root
        ),
    ],
    ids=["a file in its place", "immutable"],
)
def test_an_output_folder_that_cannot_be_written_stops_the_run_before_any_work(
    demo_copy, damage, message
):
    output = demo_copy / "output"
    kept = {name: digest(demo_copy / name) for name in ("warehouse/balance.duckdb", JOURNAL)}
    damage(output)
    try:
        in_place_of_the_folder = output.read_bytes() if output.is_file() else None

        result = run(demo_copy, "run")

        assert result.exit_code == 1
        assert result.output.splitlines() == [message]
        assert {name: digest(demo_copy / name) for name in kept} == kept
        if in_place_of_the_folder is not None:
            assert output.read_bytes() == in_place_of_the_folder
    finally:
        put_right(output)

    after = run(demo_copy, "run")
    assert after.exit_code == 0, after.output
    assert NOTHING_CHANGED in after.output  # the refused run left nothing half done
    assert after.output.strip().endswith(STATEMENT)
