"""Reading the user's answers in Queue_Review back into the review journal
(docs/rules.md#review-answers)."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import openpyxl

from core.clock import utc_now
from core.review import (
    ANSWER_HEADERS,
    ANSWER_LETTERS,
    ANSWER_WORDS,
    EXPORT_RECORD_SHEET,
    QUEUE_SHEET,
)
from core.workspace import PRIVATE_FILE_MODE, make_private_dir
from ingest.household import REVIEW_JOURNAL_HEADER

SHARED_ANSWERS = {
    letter.casefold(): sharing for letter, sharing in ANSWER_LETTERS.items()
} | ANSWER_WORDS


@dataclass
class Answer:
    sheet_row: int
    txn_id: str
    shared: str
    payer_share_pct: str
    policy: str
    note: str


@dataclass
class ReviewImport:
    appended: int = 0
    problems: list[str] = field(default_factory=list)
    # Answers that cannot be used, by txn_id: the cells as typed and why. The next workbook
    # shows them again beside their reason; they are never blanked.
    kept: dict[str, dict[str, str]] = field(default_factory=dict)
    txn_ids_read: set[str] = field(default_factory=set)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _percent_text(cell) -> str:
    """A payer share as the user meant it: Excel stores 30% typed into a cell as 0.3 with a
    percent number format, and that means 30."""
    value = cell.value
    is_percent_cell = "%" in (getattr(cell, "number_format", None) or "")
    if is_percent_cell and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format((Decimal(str(value)) * 100).normalize(), "f")
    return _text(value)


class UnreadableWorkbook(ValueError):
    """The answers of a workbook cannot be read: it is not an .xlsx workbook, or it has no
    Queue_Review sheet with the answer columns. The message is the reason, written to follow
    the file's name: "is not an Excel workbook (.xlsx)"."""


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")  # what openpyxl opens

Read = TypeVar("Read")


def _read_workbook(path: Path, read: Callable[[Any], Read]) -> Read:
    """read(book) on the workbook at path, opened read-only; any way the file fails to read
    is an UnreadableWorkbook."""
    if path.suffix.casefold() not in WORKBOOK_SUFFIXES:
        raise UnreadableWorkbook("is not an Excel workbook (.xlsx)")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return read(book)
        finally:
            book.close()
    except UnreadableWorkbook:
        raise
    except Exception as error:
        # A damaged file fails in openpyxl's zip, XML or part reading, each with its own kind
        # of error (read-only sheets are parsed only as their rows are read); to the user
        # they all mean the same: this file cannot be read. A lone argument is the message
        # itself (str() of a KeyError would quote it).
        detail = str(error.args[0]) if len(error.args) == 1 else str(error)
        detail = detail.strip().splitlines()[0] if detail.strip() else type(error).__name__
        raise UnreadableWorkbook(f"cannot be read as an .xlsx workbook ({detail})") from None


def read_answers(path: Path) -> tuple[list[Answer], dict[str, tuple[str, ...]] | None]:
    """The Queue_Review rows and, per txn_id, the question and answers the export wrote (None
    when the workbook lost its record sheet)."""
    return _read_workbook(path, lambda book: (_queue_answers(book), _export_record(book)))


def _queue_answers(book) -> list[Answer]:
    if QUEUE_SHEET not in book.sheetnames:
        raise UnreadableWorkbook(
            f"has no sheet named {QUEUE_SHEET} (its sheets: {', '.join(book.sheetnames)})"
        )
    sheet = book[QUEUE_SHEET]
    rows = sheet.iter_rows()  # cells, not values: a percentage is told by its number format
    header = [_text(cell.value) for cell in next(rows, ())]
    # Only the id and the answers are needed: a workbook an older version wrote still reads.
    missing = [name for name in ("txn_id", *ANSWER_HEADERS) if name not in header]
    if missing:
        raise UnreadableWorkbook(
            f"has no column {', '.join(missing)} in the first row of {QUEUE_SHEET}"
        )
    position = {name: header.index(name) for name in ("txn_id", *ANSWER_HEADERS)}
    answers = []
    for sheet_row, cells in enumerate(rows, start=2):

        def cell(name, cells=cells):
            index = position[name]
            if index >= len(cells):
                return ""
            if name == "Payer share %":
                return _percent_text(cells[index])
            return _text(cells[index].value)

        if not cell("txn_id"):
            continue
        answers.append(
            Answer(
                sheet_row,
                cell("txn_id"),
                cell("Shared?"),
                cell("Payer share %"),
                cell("Policy"),
                cell("Note"),
            )
        )
    return answers


def _export_record(book) -> dict[str, tuple[str, ...]] | None:
    if EXPORT_RECORD_SHEET not in book.sheetnames:
        return None
    written: dict[str, tuple[str, ...]] = {}
    record_rows = book[EXPORT_RECORD_SHEET].iter_rows(values_only=True)
    next(record_rows, None)
    for values in record_rows:
        values = [_text(v) for v in values] + [""] * 6
        if values[0]:
            written[values[0]] = tuple(values[1:6])
    return written


def workbook_answers_fingerprint(path: Path) -> str:
    """Changes when any answer cell changes, and only then. Reads Queue_Review alone (in
    read-only mode openpyxl parses a sheet only when its rows are read)."""
    answers = _read_workbook(path, _queue_answers)
    return _answers_fingerprint(
        (answer.txn_id, answer.shared, answer.payer_share_pct, answer.policy, answer.note)
        for answer in answers
    )


def written_answers_fingerprint(txn_ids: Iterable[str], kept: dict[str, dict[str, str]]) -> str:
    """The fingerprint of a Queue_Review as the export writes it (blank, or the answers kept
    because they could not be used): the same as reading the new workbook back, without
    reading it."""
    return _answers_fingerprint(
        (txn_id, *(kept.get(txn_id, {}).get(header, "") for header in ANSWER_HEADERS))
        for txn_id in txn_ids
    )


def _answers_fingerprint(answers: Iterable[tuple[str, ...]]) -> str:
    digest = hashlib.sha256()
    for answer in answers:
        digest.update(repr(answer).encode())
    return digest.hexdigest()


def _journal_lines(answer: Answer, question: str, decided_at: str) -> list[list[str]] | str:
    """The journal lines for one answer, or the reason it cannot be used."""
    if not answer.shared:
        return "Shared? is blank: the other cells count once it says Y, N, S or D"
    sharing = SHARED_ANSWERS.get(answer.shared.casefold())
    if sharing is None:
        return f"Shared? must be Y, N, S or D, not {answer.shared!r}"
    if sharing == "duplicate" and question != "duplicate":
        return "D answers only a suspected duplicate"
    pct = ""
    if sharing == "split":
        try:
            value = Decimal(answer.payer_share_pct.rstrip("%").strip())
        except InvalidOperation:
            return f"Payer share % must be a number from 0 to 100, not {answer.payer_share_pct!r}"
        if not Decimal(0) <= value <= Decimal(100):
            return f"Payer share % must be from 0 to 100, not {answer.payer_share_pct}"
        pct = format(value.normalize(), "f")
    line = [answer.txn_id, sharing, pct, answer.policy.casefold(), answer.note, decided_at]
    if question == "duplicate" and sharing != "duplicate":
        # Y/N/S typed to "duplicate of …?" say it is not one, and how it is shared
        # (docs/rules.md#review-answers).
        return [[answer.txn_id, "not_duplicate", "", "", "", decided_at], line]
    return [line]


def import_review_answers(
    workbook: Path,
    journal: Path,
    shown_path: str,
    queue_questions: Callable[[], dict[str, str]] = dict,
) -> ReviewImport:
    """Append every changed, usable answer; the others are reported with their sheet row and
    kept. `queue_questions` (txn_id → question of today's queue) stands in for the export's
    record when a program that drops hidden sheets has lost it: answers on rows still waiting
    for review are then imported as typed."""
    answers, written = read_answers(workbook)
    result = ReviewImport(txn_ids_read={answer.txn_id for answer in answers})
    if written is None:
        written = {
            txn_id: (question, "", "", "", "") for txn_id, question in queue_questions().items()
        }
        result.problems.append(
            f"{shown_path}: the hidden {EXPORT_RECORD_SHEET} sheet is gone (saved by a program "
            "that drops hidden sheets?), so every filled answer on a row still waiting for "
            "review counts as typed"
        )
    decided_at = utc_now().isoformat(timespec="seconds") + "Z"
    lines = []
    for answer in answers:
        current = [answer.shared, answer.payer_share_pct, answer.policy, answer.note]
        if answer.txn_id not in written:
            if any(current):
                result.problems.append(
                    f"{shown_path}:{QUEUE_SHEET}!row {answer.sheet_row}: txn_id "
                    f"{answer.txn_id!r} is no longer waiting for review; its answer is ignored"
                )
            continue
        question, *as_written = written[answer.txn_id]
        if not any(current):
            continue  # no answer yet
        is_changed = current != list(as_written)
        answer_lines = _journal_lines(answer, question, decided_at)
        if isinstance(answer_lines, str):
            result.kept[answer.txn_id] = dict(zip(ANSWER_HEADERS, current, strict=True))
            result.kept[answer.txn_id]["reason"] = answer_lines
            if is_changed:
                result.problems.append(
                    f"{shown_path}:{QUEUE_SHEET}!row {answer.sheet_row}: {answer_lines} "
                    "(kept in the workbook until it is fixed)"
                )
            continue
        if is_changed:
            lines += answer_lines
            result.appended += 1
    if lines:
        append_journal_lines(journal, lines)
    return result


def append_journal_lines(journal: Path, lines: list[list[str]]) -> None:
    """The journal is append-only user data: add lines, never rewrite what is there."""
    make_private_dir(journal.parent)
    is_new = not journal.exists() or journal.stat().st_size == 0
    needs_newline = not is_new and not journal.read_bytes().endswith(b"\n")
    with journal.open("a", encoding="utf-8", newline="") as handle:
        if needs_newline:
            handle.write("\n")
        writer = csv.writer(handle, lineterminator="\n")
        if is_new:
            writer.writerow(REVIEW_JOURNAL_HEADER)
        writer.writerows(lines)
    journal.chmod(PRIVATE_FILE_MODE)
