"""The steps of a run, each callable alone: review import → ingest → dbt build → export."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

import duckdb

from balance.audit import export_audit_trail
from balance.dbt import dbt_target_dir, run_dbt
from balance.explain import UnknownTransaction, explain_transaction
from balance.health import read_account_links, read_health
from balance.reporting import Reporter
from balance.run_state import BuildRecord, RunState, WorkbookRecord, read_run_state
from balance.settle import format_statement, read_statement, write_statement_workbook
from core.clock import utc_now
from core.files import (
    file_state,
    move_aside,
    remove_stale_temporaries,
    replace_atomically,
)
from core.masking import mask_digit_runs
from core.money import dollars, signed_dollars
from core.workspace import PROJECT_ROOT, Workspace, make_private_dir
from exports.powerbi import UnsafeColumnType, export_parquet
from exports.summary import read_balance_summary
from exports.workbook import export_workbook, queue_txn_ids
from ingest.answers import (
    ReviewImport,
    UnreadableWorkbook,
    import_review_answers,
    workbook_answers_fingerprint,
    written_answers_fingerprint,
)
from ingest.doctor import Diagnosis, diagnose, write_draft_schema
from ingest.draft_schema import DraftError
from ingest.encodings import decode
from ingest.household import HouseholdError
from ingest.inbox import (
    IngestReport,
    format_report,
    inbox_entries,
    ingest_workspace,
    print_progress,
    shown_path,
)
from ingest.schemas import SchemaError
from ingest.warehouse import WarehouseLocked, connect, loaded_row_count

EXIT_INVARIANT_FAILED = 2


class PipelineError(RuntimeError):
    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class RunOutcome:
    statement_text: str
    rejected_files: int
    skipped: bool = False


@contextmanager
def _timed(report: Reporter, step: str):
    report.detail(f"{step}: starting", level=2)  # in the log: where a killed run stopped
    started = time.perf_counter()
    yield
    report.debug(f"{step} took {time.perf_counter() - started:.2f} s")


def require_workspace(workspace: Workspace) -> None:
    if not workspace.household.is_dir():
        raise PipelineError(
            f"{workspace.root} is not a balance workspace (no household/ folder); "
            "see README.md, or try `balance demo`"
        )


def require_writable_folder(workspace: Workspace, folder: Path) -> None:
    """Fail before any work when an output folder cannot take files: the run then leaves the
    warehouse, the journal and the previous outputs as they were."""
    shown = workspace.relative(folder)
    if folder.exists() and not folder.is_dir():
        raise PipelineError(
            f"{shown} is a file, but balance writes its outputs into a folder of that name: "
            "move the file away, then run again"
        )
    try:
        make_private_dir(folder)
        # Only writing tells: root passes every permission check, an immutable folder none.
        with tempfile.TemporaryFile(dir=folder, prefix=".write-check-", suffix=".tmp"):
            pass
    except OSError as error:
        raise PipelineError(
            f"cannot write into the folder {shown}/ ({error.strerror or error}): make it "
            "writable by you, then run again"
        ) from None


def _require_output_folders(workspace: Workspace) -> None:
    for folder in (workspace.output, workspace.powerbi):
        require_writable_folder(workspace, folder)


def ingest(workspace: Workspace, report: Reporter | None = None) -> IngestReport:
    report = report or Reporter()
    require_workspace(workspace)
    try:

        def progress(number: int, total: int, shown_path: str) -> None:
            print_progress(number, total, shown_path)
            report.detail(f"[{number}/{total}] {shown_path}", level=2)

        result = ingest_workspace(workspace, progress=progress)
    except (SchemaError, HouseholdError, WarehouseLocked) as error:
        raise PipelineError(str(error)) from None
    if result.loaded or result.reread:
        # The warehouse moved: a later `run` on the same inputs must build, not skip.
        forget_run_fingerprint(workspace, report)
    report(format_report(result))
    return result


def build(workspace: Workspace, report: Reporter | None = None) -> None:
    report = report or Reporter()
    # dbt unit tests check the SQL, not the household's data: they run with the test suite.
    result = run_dbt(
        workspace, "build", ["--exclude-resource-type", "unit_test"], report.show_debug
    )
    finished_at = utc_now().isoformat() + "Z"
    _remember(workspace, report, build=BuildRecord(result.succeeded, result.failures, finished_at))
    if not result.succeeded:
        raise PipelineError(
            f"{result.summary}; exports skipped, the previous outputs are unchanged",
            EXIT_INVARIANT_FAILED,
        )
    report(result.summary)
    outcomes = ("OK created", "PASS", "WARN", "FAIL", "ERROR")
    report.detail(
        "\n".join(line for line in result.output.splitlines() if any(o in line for o in outcomes))
    )
    report.detail(result.output, level=2)


def export(workspace: Workspace, report: Reporter | None = None) -> None:
    report = report or Reporter()
    last = _last_run(workspace, report)
    if not last.build_succeeded:
        raise PipelineError("the last dbt build did not pass: run `balance build` first")
    _require_output_folders(workspace)
    _import_changed_answers(workspace, last, report)
    for stale in remove_stale_temporaries(workspace.output):
        report.detail(f"removed {workspace.relative(stale)}, left by an interrupted run")
    try:
        with connect(workspace.warehouse, read_only=True) as connection:
            parquet_files = export_parquet(connection, workspace.powerbi)
            queue = queue_txn_ids(connection)
            # Answers that could not be used stay on their rows while those wait for review.
            queued = set(queue)
            kept = {t: a for t, a in _last_run(workspace).kept_answers.items() if t in queued}
            written = export_workbook(connection, workspace.workbook, kept)
            written_answers = written_answers_fingerprint(queue, kept)
            summary = read_balance_summary(connection) | read_health(connection)
            report.debug(_row_counts(connection))
    except (WarehouseLocked, UnsafeColumnType) as error:
        raise PipelineError(str(error)) from None
    except OSError as error:  # the folder changed since it was checked, or the disk is full
        where = workspace.relative(Path(error.filename)) if error.filename else "output/"
        raise PipelineError(
            f"cannot write {where} ({error.strerror or error}); the previous outputs are kept"
        ) from None
    refresh_warehouse_snapshot(workspace, report)
    for link in summary["account_links"]:
        report(link)
    shown = workspace.relative(written)
    if written == workspace.workbook:
        as_written = file_state(written)  # any save from now on shows as a change
        _remember(
            workspace,
            **summary,
            kept_answers=kept,
            workbook_answers=written_answers,
            workbook_stat=as_written,
        )
    else:
        # balance_data.xlsx keeps the answers it was recorded with; the side workbook is
        # recorded apart, and the next run imports what is typed into either.
        side_workbooks = _last_run(workspace).side_workbooks | {
            shown: WorkbookRecord(written_answers, file_state(written))
        }
        _remember(workspace, **summary, kept_answers=kept, side_workbooks=side_workbooks)
        report(
            f"{workspace.relative(workspace.workbook)} is open in another program or changed "
            f"while the new workbook was written, so it was kept as it is; the new workbook is "
            f"{shown} (answers typed into either are imported by the next `balance run`)"
        )
    report(f"exported {len(parquet_files)} Parquet files (output/powerbi/, "
           f"output/monthly_data.parquet) and {shown}")  # fmt: skip


def _row_counts(connection) -> str:
    """Rows per step, for --debug: what was loaded, and what each kind holds."""
    loaded = loaded_row_count(connection)
    kinds = connection.execute(
        "select kind, count(*) from marts.fct_transactions group by kind order by kind"
    ).fetchall()
    shares = connection.execute("select count(*) from marts.fct_shares").fetchone()[0]
    by_kind = ", ".join(f"{kind} {count}" for kind, count in kinds)
    return f"raw rows {loaded}; transactions: {by_kind}; share rows {shares}"


def import_review(
    workspace: Workspace, report: Reporter | None = None, workbook: str | None = None
) -> ReviewImport:
    """`balance review import [WORKBOOK]`: a workbook whose answers cannot be read is a
    failure, and the file stays as it is."""
    report = report or Reporter()
    path = Path(workbook) if workbook else workspace.workbook
    if not path.exists():
        if workbook:
            raise PipelineError(f"{workbook}: no such file")
        raise PipelineError(f"{path}: no such workbook; run `balance run` to write one")
    try:
        return _import_review(workspace, report, path)
    except UnreadableWorkbook as error:
        raise PipelineError(f"{workspace.relative(path)} {error}; nothing was imported") from None


def _import_review(workspace: Workspace, report: Reporter, path: Path) -> ReviewImport:
    result = import_review_answers(
        path,
        workspace.decisions_journal,
        workspace.relative(path),
        queue_questions=lambda: _queue_questions(workspace),
    )
    for problem in result.problems:
        report(f"warning: {problem}")
    # This workbook's rows say what is kept now; rows it does not hold keep what they had.
    kept = {
        txn_id: answer
        for txn_id, answer in _last_run(workspace, report).kept_answers.items()
        if txn_id not in result.txn_ids_read
    }
    _remember(workspace, report, kept_answers=kept | result.kept)
    report(
        f"imported {result.appended} answer(s) from {workspace.relative(path)} into "
        f"{workspace.relative(workspace.decisions_journal)}"
    )
    return result


def _queue_questions(workspace: Workspace) -> dict[str, str]:
    """txn_id → question of every row waiting for review in the warehouse (none without one)."""
    if not workspace.warehouse.exists():
        return {}
    try:
        with connect(workspace.warehouse, read_only=True) as connection:
            rows = connection.execute("select txn_id, question from marts.rpt_review_queue")
            return dict(rows.fetchall())
    except WarehouseLocked as error:
        raise PipelineError(str(error)) from None


def _import_changed_answers(workspace: Workspace, last: RunState, report: Reporter) -> None:
    """Answers typed into the workbook since it was written go to the journal first
    (docs/rules.md#review-answers); then those typed into side workbooks written while it was
    open, oldest first (they were written later than the main one, so their answers are the
    newer)."""
    side_records = dict(last.side_workbooks)
    if workspace.workbook.exists():
        try:
            now = _import_if_changed(workspace, workspace.workbook, last.workbook_record, report)
        except UnreadableWorkbook as error:
            aside = _set_aside_unreadable_workbook(workspace, error, report)
            # Watched like a side workbook: once it reads, the next run imports its answers.
            side_records[workspace.relative(aside)] = WorkbookRecord(None, file_state(aside))
            now = WorkbookRecord()
        _remember(workspace, report, workbook_answers=now.answers, workbook_stat=now.stat)
    side_workbooks = {}
    for shown, recorded in sorted(side_records.items()):
        path = workspace.root / shown
        if not path.exists():
            continue  # one the user deleted has nothing more to give
        try:
            side_workbooks[shown] = _import_if_changed(workspace, path, recorded, report)
        except UnreadableWorkbook as error:
            # Nothing overwrites a side workbook: it waits where it is until it reads.
            report.warn_once(
                f"{shown} {error}, so its answers were not imported; once it reads, the next "
                "`balance run` imports them"
            )
            side_workbooks[shown] = WorkbookRecord(recorded.answers, file_state(path))
    if side_workbooks or last.side_workbooks:
        _remember(workspace, report, side_workbooks=side_workbooks)


def _set_aside_unreadable_workbook(
    workspace: Workspace, error: UnreadableWorkbook, report: Reporter
) -> Path:
    """The workbook's answers cannot be read, and the export is about to replace it: keep the
    user's file beside it under a name that says why, rather than overwrite what they typed."""
    aside = move_aside(workspace.workbook, "unreadable", utc_now())
    shown, shown_aside = workspace.relative(workspace.workbook), workspace.relative(aside)
    report.warn_once(
        f"{shown} {error}, so its answers cannot be imported: the file is kept as "
        f"{shown_aside} (once it reads, the next `balance run` imports its answers) and a "
        "new workbook takes its place"
    )
    return aside


def _import_if_changed(
    workspace: Workspace, path: Path, recorded: WorkbookRecord, report: Reporter
) -> WorkbookRecord:
    """Import the answers of one workbook if they changed since recorded; returns its record."""
    stat = file_state(path)
    if stat == recorded.stat:
        # Saving answers rewrites the file, which changes its size or modification time.
        report.debug(f"{workspace.relative(path)} is as last recorded; not read")
        return recorded
    answers = workbook_answers_fingerprint(path)
    if answers != recorded.answers:
        _import_review(workspace, report, path)
    return WorkbookRecord(answers, stat)


def inputs_fingerprint(workspace: Workspace) -> str:
    """What a run depends on: exports, configuration, journal, answers, this version."""
    digest = hashlib.sha256(version("balance").encode())
    # The inbox is walked once: its regular files are read, links and pipes only named.
    entries = inbox_entries(workspace)
    is_opened = [entry.kind != "link" and entry.path.is_file() for entry in entries]
    workspace_inputs = [
        *(entry.path for entry, opened in zip(entries, is_opened, strict=True) if opened),
        *sorted(workspace.household.glob("*.csv")),
        *sorted(workspace.rules.glob("*.yaml")),
        workspace.decisions_journal,
    ]
    project_inputs = [
        *sorted((PROJECT_ROOT / "rules").glob("*.yaml")),
        *sorted((PROJECT_ROOT / "seeds").glob("*.csv")),
        *sorted(PROJECT_ROOT.glob("*.yml")),
        *(
            path
            for folder in ("models", "macros", "tests/invariants")
            for path in sorted((PROJECT_ROOT / folder).rglob("*"))
            if path.is_file()
        ),
    ]
    for root, paths in ((workspace.root, workspace_inputs), (PROJECT_ROOT, project_inputs)):
        for path in paths:
            if path.exists():
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    # Links and pipes in the inbox are reported, never opened: their names (and a link's
    # target) are what a run depends on.
    for entry, opened in zip(entries, is_opened, strict=True):
        if not opened:
            target = os.readlink(entry.path) if entry.path.is_symlink() else ""
            digest.update(f"{shown_path(workspace, entry.path)} -> {target}".encode())
    return digest.hexdigest()


def forget_run_fingerprint(workspace: Workspace, report: Reporter | None = None) -> None:
    """Make the next `run` do its work even when its inputs are as at the last one: after
    `forget` or `restore` the warehouse no longer holds what those inputs loaded."""
    _remember(workspace, report, fingerprint=None)


def run(workspace: Workspace, report: Reporter | None = None, force: bool = False) -> RunOutcome:
    """The daily command: answers first, then new files, then build and export if anything moved."""
    report = report or Reporter()
    last = _last_run(workspace, report)
    _require_output_folders(workspace)
    journal_lines = _journal_line_count(workspace)
    _import_changed_answers(workspace, last, report)
    answered = _answers_since(workspace, journal_lines)
    effects_before = _balance_effects(workspace, answered)
    fingerprint = inputs_fingerprint(workspace)
    outputs_present = workspace.workbook.exists() and workspace.powerbi.is_dir()
    if not force and outputs_present and last.fingerprint == fingerprint and last.build_succeeded:
        report("Nothing changed since the last run; outputs are up to date.")
        return RunOutcome(last.statement or "", last.files_quarantined, skipped=True)
    with _timed(report, "ingest"):
        ingested = ingest(workspace, report)
    quarantined = len(ingested.rejected)
    _remember(
        workspace,
        report,
        files_quarantined=quarantined,
        quarantined_files=[f.path for f in ingested.rejected],
    )
    with _timed(report, "build"):
        build(workspace, report)
    with _timed(report, "export"):
        export(workspace, report)
    _remember(workspace, report, fingerprint=fingerprint, last_run=utc_now().isoformat() + "Z")
    summary = _last_run(workspace, report)
    if answered:
        for line in _balance_moved_lines(workspace, last, summary, answered, effects_before):
            report(line)
    return RunOutcome(summary.statement, quarantined)


def _journal_line_count(workspace: Workspace) -> int:
    journal = workspace.decisions_journal
    return len(journal.read_bytes().splitlines()) if journal.is_file() else 0


def _answers_since(workspace: Workspace, line_count: int) -> dict[str, str]:
    """txn_id → the answer (sharing) of every journal line appended after the first
    line_count lines: the journal is append-only, so these are this run's imports."""
    if not workspace.decisions_journal.is_file():
        return {}
    text, _encoding = decode(workspace.decisions_journal.read_bytes())
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = [cell.strip().casefold() for cell in rows[0]] if rows else []
    if "txn_id" not in header or "sharing" not in header:
        return {}
    txn, sharing = header.index("txn_id"), header.index("sharing")
    return {
        row[txn].strip(): row[sharing].strip()
        for row in rows[max(line_count, 1) :]
        if len(row) > max(txn, sharing) and row[txn].strip()
    }


def _balance_effects(workspace: Workspace, answered: dict[str, str]) -> dict[str, dict[str, int]]:
    """txn_id → member → cents each answered transaction moves the balance by, as built."""
    if not answered or not workspace.warehouse.exists():
        return {}
    try:
        with connect(workspace.warehouse, read_only=True) as connection:
            rows = connection.execute(
                "select txn_id, member_id, balance_effect_cents from marts.fct_shares"
                " where not is_before_clean_slate and list_contains(?, txn_id)",
                [list(answered)],
            ).fetchall()
    except (WarehouseLocked, duckdb.Error):
        return {}  # no warehouse built yet: nothing was counted before
    effects: dict[str, dict[str, int]] = {}
    for txn_id, member_id, cents in rows:
        effects.setdefault(txn_id, {})[member_id] = int(cents)
    return effects


def _balance_moved_lines(
    workspace: Workspace,
    last: RunState,
    summary: RunState,
    answered: dict[str, str],
    effects_before: dict[str, dict[str, int]],
) -> list[str]:
    """How the balance moved since the last run, and what each imported answer did to it."""
    effects_after = _balance_effects(workspace, answered)
    with connect(workspace.warehouse, read_only=True) as connection:
        names = dict(
            connection.execute("select member_id, display_name from marts.dim_members").fetchall()
        )
        facts = {
            txn_id: (date, description, cost)
            for txn_id, date, description, cost in connection.execute(
                "select txn_id, transaction_date, description, -amount_cents from"
                " marts.fct_transactions where list_contains(?, txn_id)",
                [list(answered)],
            ).fetchall()
        }

    def moves(cents_by_member: dict[str, int]) -> str:
        shown = [(names.get(m, m), c) for m, c in sorted(cents_by_member.items()) if c]
        return ", ".join(f"{name} {signed_dollars(cents)}" for name, cents in shown) or "none"

    before = {m: _cents(v) for m, v in (last.balance or {}).items()}
    after = {m: _cents(v) for m, v in (summary.balance or {}).items()}
    moved = {m: after.get(m, 0) - before.get(m, 0) for m in {*before, *after}}
    lines = [
        f"The balance moved: {moves(moved)} (now: {summary.statement};"
        f" before: {last.statement or 'no balance yet'})"
    ]
    lines.append(f"{len(answered)} answer(s) imported, each moving it by:")
    for txn_id, answer in sorted(
        answered.items(), key=lambda item: facts.get(item[0], ("",))[0] or ""
    ):
        change = {
            member: effects_after.get(txn_id, {}).get(member, 0)
            - effects_before.get(txn_id, {}).get(member, 0)
            for member in {*effects_after.get(txn_id, {}), *effects_before.get(txn_id, {})}
        }
        date, description, cost = facts.get(txn_id, (None, "(no longer in the warehouse)", 0))
        lines.append(
            mask_digit_runs(
                f"  {answer:<13} {str(date or ''):<10}  {description}  cost {dollars(cost or 0)}"
                f"  → {moves(change)}  ({txn_id})"
            )
        )
    return lines


def _cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


def refresh_warehouse_snapshot(workspace: Workspace, report: Reporter) -> None:
    """Copy the warehouse, checkpointed, to output/warehouse_snapshot.duckdb in one rename: a
    shell open on the previous copy keeps reading it and holds no lock the next run needs."""
    try:
        with connect(workspace.warehouse) as connection:
            connection.execute("checkpoint")  # everything in the one file, nothing in a WAL
    except WarehouseLocked:
        report.warn_once(
            f"{workspace.relative(workspace.warehouse_snapshot)} was not refreshed: the "
            "warehouse is open in another program (use `balance shell`, which opens the snapshot)"
        )
        return
    replace_atomically(
        workspace.warehouse_snapshot, lambda path: shutil.copyfile(workspace.warehouse, path)
    )


def shell(workspace: Workspace, command: str | None = None) -> int:
    """`balance shell`: the DuckDB shell on the last run's snapshot, read-only; its exit code."""
    if not workspace.warehouse_snapshot.exists():
        raise PipelineError(
            f"no {workspace.relative(workspace.warehouse_snapshot)} yet: run `balance run` first"
        )
    duckdb_cli = Path(sys.executable).with_name("duckdb")
    arguments = [str(duckdb_cli), "-readonly", str(workspace.warehouse_snapshot)]
    if command:
        arguments += ["-c", command]
    return subprocess.run(arguments, check=False).returncode


def build_docs(workspace: Workspace, report: Reporter) -> Path:
    """`balance docs`: dbt's documentation site of the models, with the warehouse's columns,
    as one static page in output/docs/ (never in the project's folder)."""
    result = run_dbt(workspace, "docs generate", ["--static"])
    if not result.succeeded:
        raise PipelineError("dbt docs generate failed: " + "; ".join(result.failures))
    generated = dbt_target_dir(workspace) / "target" / "static_index.html"
    target = replace_atomically(workspace.docs_site, lambda path: shutil.copyfile(generated, path))
    report(f"wrote {workspace.relative(target)}: open it in a browser")
    return target


def draft_schema(workspace: Workspace, path: Path) -> Path:
    """`balance doctor FILE --draft-schema`: a starter schema in rules/ for FILE's layout."""
    try:
        return write_draft_schema(workspace, path)
    except DraftError as error:
        raise PipelineError(
            f"cannot draft a schema from {workspace.relative(path)}: {error}"
        ) from None


def doctor(workspace: Workspace, path: Path) -> Diagnosis:
    try:
        return diagnose(workspace, path)
    except SchemaError as error:
        raise PipelineError(str(error)) from None


CHECK_TITLES = {
    "suspected_duplicate": "Possible duplicates",
    "refund_without_purchase": "Refunds without a matching purchase",
    "unusually_large": "Unusually large expenses",
    "uncategorised_merchant": "Uncategorised merchants",
    "statement_balance_mismatch": "Statement balances that do not match",
    "orphan_decision": "Review decisions for transactions that do not exist",
    "sharing_issue": "Expenses whose sharing cannot be applied",
    "rejected_file": "Rejected files",
    "mirrored_accounts": "Accounts that look like one account under two names",
}


def check(workspace: Workspace, report: Reporter | None = None) -> int:
    """The weekly quality pass; returns how many things need attention."""
    report = report or Reporter()
    if not workspace.warehouse.exists():
        raise PipelineError(f"no warehouse in {workspace.root} yet: run `balance run` first")
    invariants = run_dbt(
        workspace, "test", ["--select", "path:tests/invariants"], report.show_debug
    )
    statuses = list(invariants.statuses.values())
    warnings = statuses.count("warn")  # orphan decisions: listed with the findings below
    held = f"Invariants: {statuses.count('pass')} of {len(statuses) - warnings} hold"
    report(held + (f"; {warnings} warning(s), listed below" if warnings else ""))
    for failure in invariants.failures:
        report(f"  FAILED {failure}  (balance status; fix the data, then balance run)")
    with connect(workspace.warehouse, read_only=True) as connection:
        findings = connection.execute(
            "select check_name, subject, detail, next_step from marts.rpt_data_quality "
            "where is_finding order by check_name, subject"
        ).fetchall()
        links = read_account_links(connection)
    # A rejected file the user has since removed needs nothing more (a link is its own entry).
    findings = [
        finding
        for finding in findings
        if finding[0] != "rejected_file" or os.path.lexists(workspace.root / finding[1])
    ]
    current = None
    for check_name, subject, detail, next_step in findings:
        if check_name != current:
            count = sum(1 for row in findings if row[0] == check_name)
            report(f"{CHECK_TITLES[check_name]} ({count}):")
            current = check_name
        report(f"  {subject}: {detail}\n    → {next_step}")
    kept = _last_run(workspace, report).kept_answers
    if kept:
        report(f"Answers in Queue_Review that could not be used ({len(kept)}):")
        for line in _kept_answer_lines(workspace, kept):
            report(f"  {line}\n    → fix the cells, save, then balance run")
    if not findings and not kept:
        report("No findings.")
    if links:
        # Not findings: what was decided, said so that a wrong link is noticed.
        report(f"Accounts linked by mirrored rows ({len(links)}):")
        report("\n".join(f"  {link}" for link in links))
    return len(findings) + len(invariants.failures) + len(kept)


def _kept_answer_lines(workspace: Workspace, kept: dict[str, dict[str, str]]) -> list[str]:
    shown = workspace.relative(workspace.workbook)
    return [f"{txn_id} in {shown}: {answer['reason']}" for txn_id, answer in sorted(kept.items())]


def settle(workspace: Workspace, report: Reporter, as_of: dt.date | None) -> Path:
    """Print the month-end statement and write it as output/settlement_<date>.xlsx."""
    require_writable_folder(workspace, workspace.output)
    try:
        with connect(workspace.warehouse, read_only=True) as connection:
            statement = read_statement(connection, as_of)
    except WarehouseLocked as error:
        raise PipelineError(str(error)) from None
    report(format_statement(statement))
    written = write_statement_workbook(statement, workspace.output)
    report(f"written: {workspace.relative(written)}")
    return written


def audit(workspace: Workspace, report: Reporter) -> list[Path]:
    require_writable_folder(workspace, workspace.output)
    try:
        with connect(workspace.warehouse, read_only=True) as connection:
            written = export_audit_trail(connection, workspace.output / "audit")
    except WarehouseLocked as error:
        raise PipelineError(str(error)) from None
    for path in written:
        report(f"written: {workspace.relative(path)}")
    return written


def explain(workspace: Workspace, txn_id: str) -> str:
    try:
        with connect(workspace.warehouse, read_only=True) as connection:
            return explain_transaction(connection, txn_id)
    except (UnknownTransaction, WarehouseLocked) as error:
        raise PipelineError(str(error)) from None


def status_text(workspace: Workspace, as_json: bool = False, report: Reporter | None = None) -> str:
    last = _last_run(workspace, report)
    if not last.is_complete:
        raise PipelineError(f"no completed run in {workspace.root} yet: run `balance run` first")
    status = {
        "balance": last.balance,
        "statement": last.statement,
        "pending_review": last.pending_review,
        "pending_amount": last.pending_amount,
        "duplicate_questions": last.duplicate_questions,
        "files": {"loaded": last.files_loaded, "quarantined": last.files_quarantined},
        "last_run": last.last_run,
        "last_build": asdict(last.build) if last.build else {},
        "transactions_by_kind": last.transactions_by_kind,
        "warnings": last.warnings,
        "account_links": last.account_links,
        "answers_not_imported": [
            {"txn_id": txn_id, **answer} for txn_id, answer in sorted(last.kept_answers.items())
        ],
    }
    if as_json:
        return json.dumps(status, indent=2)
    build_state = status["last_build"]
    pending = (
        f"{status['pending_review']} expense(s) for ${status['pending_amount']} still to review"
        " (not in the balance)"
    )
    lines = [
        f"{status['statement']}" + (f"; {pending}" if status["pending_review"] else ""),
        f"to review: {status['pending_review']} expense(s), ${status['pending_amount']};"
        f" {status['duplicate_questions']} duplicate question(s)",
        f"files: {status['files']['loaded']} loaded, {status['files']['quarantined']} quarantined",
        f"last run: {status['last_run']}",
    ]
    if build_state.get("succeeded", True):
        lines.append(f"last build: passed at {build_state.get('finished_at', '?')}")
    else:
        lines.append("last build FAILED: " + "; ".join(build_state.get("failures", [])))
    for path in last.quarantined_files:
        lines.append(f"quarantined: {path} (`balance doctor {path}` says why)")
    kinds = status["transactions_by_kind"]
    if kinds:
        counts = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
        lines.append(f"transactions: {sum(kinds.values())} ({counts})")
    lines += status["account_links"]
    lines += [
        f"answer not imported: {line}" for line in _kept_answer_lines(workspace, last.kept_answers)
    ]
    lines += [f"warning: {warning}" for warning in status["warnings"]]
    return "\n".join(lines)


def _last_run(workspace: Workspace, report: Reporter | None = None) -> RunState:
    state, problem = read_run_state(workspace.last_run_file)
    if problem and report:
        shown = workspace.relative(workspace.last_run_file)
        going_on = "without them" if state != RunState() else "as if there were no last run"
        report.warn_once(f"{shown} {problem}; going on {going_on} (`balance run` writes it anew)")
    return state


def _remember(workspace: Workspace, report: Reporter | None = None, **facts) -> None:
    """Set facts of logs/last_run.json, which `status` reads without the warehouse."""
    make_private_dir(workspace.logs)
    _last_run(workspace, report).with_facts(**facts).write(workspace.last_run_file)
