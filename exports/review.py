"""Reading the user's answers in Queue_Review back into the review journal (§4, §9.19)."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import openpyxl

from balance.workspace import PRIVATE_FILE_MODE, make_private_dir
from exports.workbook import EXPORT_RECORD_SHEET, QUEUE_HEADERS, QUEUE_SHEET
from ingest.household import REVIEW_JOURNAL_HEADER
from ingest.warehouse import utc_now

SHARED_ANSWERS = {"y": "shared", "n": "personal", "s": "split", "d": "duplicate"}


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


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_answers(path: Path) -> tuple[list[Answer], dict[str, tuple[str, ...]]]:
    """The Queue_Review rows and, per txn_id, the question and answers the export wrote."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return _queue_answers(book), _export_record(book)
    finally:
        book.close()


def _queue_answers(book) -> list[Answer]:
    sheet = book[QUEUE_SHEET]
    rows = sheet.iter_rows(values_only=True)
    header = [_text(cell) for cell in next(rows, ())]
    missing = [name for name in QUEUE_HEADERS if name not in header]
    if missing:
        raise ValueError(f"{QUEUE_SHEET} has no column {', '.join(missing)}")
    position = {name: header.index(name) for name in QUEUE_HEADERS}
    answers = []
    for sheet_row, cells in enumerate(rows, start=2):

        def cell(name, cells=cells):
            index = position[name]
            return _text(cells[index]) if index < len(cells) else ""

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


def _export_record(book) -> dict[str, tuple[str, ...]]:
    written: dict[str, tuple[str, ...]] = {}
    if EXPORT_RECORD_SHEET in book.sheetnames:
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
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        answers = _queue_answers(book)
    finally:
        book.close()
    return _answers_fingerprint(
        (answer.txn_id, answer.shared, answer.payer_share_pct, answer.policy, answer.note)
        for answer in answers
    )


def blank_answers_fingerprint(txn_ids: Iterable[str]) -> str:
    """The fingerprint of a Queue_Review as the export writes it, every answer blank: the same
    as reading the new workbook back, without reading it."""
    return _answers_fingerprint((txn_id, "", "", "", "") for txn_id in txn_ids)


def _answers_fingerprint(answers: Iterable[tuple[str, ...]]) -> str:
    digest = hashlib.sha256()
    for answer in answers:
        digest.update(repr(answer).encode())
    return digest.hexdigest()


def _journal_lines(answer: Answer, question: str, decided_at: str) -> list[list[str]] | str:
    """The journal lines for one answer, or the reason it is invalid."""
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
        # Y/N/S typed to "duplicate of …?" say it is not one, and how it is shared (§9.5).
        return [[answer.txn_id, "not_duplicate", "", "", "", decided_at], line]
    return [line]


def import_review_answers(workbook: Path, journal: Path, shown_path: str) -> ReviewImport:
    """Append every changed, valid answer; invalid ones are reported with their sheet row."""
    answers, written = read_answers(workbook)
    result = ReviewImport()
    decided_at = utc_now().isoformat(timespec="seconds") + "Z"
    lines = []
    for answer in answers:
        if answer.txn_id not in written:
            result.problems.append(
                f"{shown_path}:{QUEUE_SHEET}!row {answer.sheet_row}: txn_id {answer.txn_id!r} "
                "is not in this export's queue"
            )
            continue
        question, *as_written = written[answer.txn_id]
        current = [answer.shared, answer.payer_share_pct, answer.policy, answer.note]
        if current == list(as_written) or not answer.shared:
            continue  # unchanged, or no answer yet (a blank Shared? is no answer)
        answer_lines = _journal_lines(answer, question, decided_at)
        if isinstance(answer_lines, str):
            result.problems.append(
                f"{shown_path}:{QUEUE_SHEET}!row {answer.sheet_row}: {answer_lines}"
            )
            continue
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
