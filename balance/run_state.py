"""logs/last_run.json: what the last run found and wrote, read by `status` without the warehouse
and by the next run to tell what changed since.

The record is one typed object, RunState: each step sets its own facts with `replace`, and a
fact of the wrong name fails where it is written. The file keeps the form earlier versions
wrote (a JSON object, one key per fact), so a workspace they left reads as before; a fact of
the wrong type is left out, as if it had never been written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from core.files import write_private_text
from core.review import ANSWER_HEADERS

FileState = list[int]  # core.files.file_state: inode, size and change times


@dataclass(frozen=True)
class BuildRecord:
    succeeded: bool
    failures: list[str] = field(default_factory=list)
    finished_at: str = ""


@dataclass(frozen=True)
class WorkbookRecord:
    """A workbook as last recorded: the fingerprint of its answers, and its file state."""

    answers: str | None = None
    stat: FileState | None = None


@dataclass(frozen=True)
class RunState:
    # The balance as `status` shows it (None: no completed export yet).
    balance: dict[str, str] | None = None
    statement: str | None = None
    pending_review: int | None = None
    pending_amount: str | None = None
    duplicate_questions: int = 0
    files_loaded: int | None = None
    transactions_by_kind: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    account_links: list[str] = field(default_factory=list)
    # The last ingest and build.
    files_quarantined: int = 0
    quarantined_files: list[str] = field(default_factory=list)
    build: BuildRecord | None = None
    # When the last `run` finished, and the fingerprint of its inputs (None: do the work).
    last_run: str | None = None
    fingerprint: str | None = None
    # Answers that could not be used, by txn_id, shown again in the next workbook.
    kept_answers: dict[str, dict[str, str]] = field(default_factory=dict)
    # output/balance_data.xlsx as written, and the workbooks written beside it while it was open.
    workbook_answers: str | None = None
    workbook_stat: FileState | None = None
    side_workbooks: dict[str, WorkbookRecord] = field(default_factory=dict)

    @property
    def is_complete(self) -> bool:
        """A run got as far as recording the balance: what `status` needs."""
        return None not in (
            self.last_run,
            self.balance,
            self.statement,
            self.pending_review,
            self.pending_amount,
            self.files_loaded,
        )

    @property
    def build_succeeded(self) -> bool:
        return self.build is not None and self.build.succeeded

    @property
    def workbook_record(self) -> WorkbookRecord:
        return WorkbookRecord(self.workbook_answers, self.workbook_stat)

    def with_facts(self, **facts) -> RunState:
        return replace(self, **facts)

    def write(self, path: Path) -> None:
        record = {name: value for name, value in asdict(self).items() if value is not None}
        write_private_text(path, json.dumps(record, indent=2, sort_keys=True))


def _is_text(value) -> bool:
    return isinstance(value, str)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_optional_text(value) -> bool:
    return value is None or isinstance(value, str)


def _is_list_of(is_item: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: isinstance(value, list) and all(is_item(item) for item in value)


def _is_map_of(is_item: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: (
        isinstance(value, dict)
        and all(isinstance(key, str) and is_item(item) for key, item in value.items())
    )


def _is_file_state(value) -> bool:
    return value is None or _is_list_of(_is_count)(value)


def _is_build(value) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("succeeded"), bool)
        and _is_list_of(_is_text)(value.get("failures", []))
        and _is_text(value.get("finished_at", ""))
    )


def _is_kept_answer(value) -> bool:
    return _is_map_of(_is_text)(value) and all(key in value for key in (*ANSWER_HEADERS, "reason"))


def _is_workbook_record(value) -> bool:
    return (
        isinstance(value, dict)
        and _is_optional_text(value.get("answers"))
        and _is_file_state(value.get("stat"))
    )


def _build(value: dict) -> BuildRecord:
    return BuildRecord(value["succeeded"], value.get("failures", []), value.get("finished_at", ""))


def _side_workbooks(value: dict) -> dict[str, WorkbookRecord]:
    return {
        shown: WorkbookRecord(record.get("answers"), record.get("stat"))
        for shown, record in value.items()
    }


def _as_is(value):
    return value


# What each fact of the file must be, and how it becomes the field of RunState.
FACTS: dict[str, tuple[Callable[[object], bool], Callable]] = {
    "balance": (_is_map_of(_is_text), _as_is),
    "statement": (_is_text, _as_is),
    "pending_review": (_is_count, _as_is),
    "pending_amount": (_is_text, _as_is),
    "duplicate_questions": (_is_count, _as_is),
    "files_loaded": (_is_count, _as_is),
    "files_quarantined": (_is_count, _as_is),
    "quarantined_files": (_is_list_of(_is_text), _as_is),
    "last_run": (_is_text, _as_is),
    "build": (_is_build, _build),
    "fingerprint": (_is_optional_text, _as_is),
    "transactions_by_kind": (_is_map_of(_is_count), _as_is),
    "warnings": (_is_list_of(_is_text), _as_is),
    "account_links": (_is_list_of(_is_text), _as_is),
    "kept_answers": (_is_map_of(_is_kept_answer), _as_is),
    "workbook_answers": (_is_optional_text, _as_is),
    "workbook_stat": (_is_file_state, _as_is),
    "side_workbooks": (_is_map_of(_is_workbook_record), _side_workbooks),
}
assert set(FACTS) == {f.name for f in fields(RunState)}, "every fact is read back"


def read_run_state(path: Path) -> tuple[RunState, str | None]:
    """The record at path as far as it can be used, and what was wrong with the file (None
    when nothing). A damaged file reads as no last run, or as its usable facts."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RunState(), None
    except OSError as error:
        return RunState(), f"cannot be read ({error.strerror or error})"
    except ValueError:
        return RunState(), "is not UTF-8 text"
    try:
        record = json.loads(text)
    except ValueError as error:
        return RunState(), f"is not valid JSON ({error})"
    if not isinstance(record, dict):
        return RunState(), "does not hold a JSON object"
    wrong = sorted(fact for fact, (is_valid, _) in FACTS.items()
                   if fact in record and not is_valid(record[fact]))  # fmt: skip
    state = RunState(**{
        fact: read(record[fact]) for fact, (_, read) in FACTS.items()
        if fact in record and fact not in wrong
    })  # fmt: skip
    if not wrong:
        return state, None
    # A record that is not whole cannot vouch that nothing changed: the next run does its work.
    return replace(state, fingerprint=None), f"has values of the wrong type for {', '.join(wrong)}"
