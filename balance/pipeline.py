"""The steps of a run, each callable alone: review import → ingest → dbt build → export."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from balance.audit import export_audit_trail
from balance.dbt import run_dbt
from balance.explain import UnknownTransaction, explain_transaction
from balance.health import read_account_links, read_health
from balance.reporting import Reporter
from balance.settle import format_statement, read_statement, write_statement_workbook
from balance.workspace import PROJECT_ROOT, Workspace, make_private_dir
from exports.files import file_state, remove_stale_temporaries, write_private_text
from exports.powerbi import UnsafeColumnType, export_parquet
from exports.review import (
    ReviewImport,
    import_review_answers,
    workbook_answers_fingerprint,
    written_answers_fingerprint,
)
from exports.summary import read_balance_summary
from exports.workbook import export_workbook, queue_txn_ids
from ingest.doctor import Diagnosis, diagnose
from ingest.household import HouseholdError
from ingest.inbox import IngestReport, format_report, inbox_files, ingest_workspace, print_progress
from ingest.schemas import SchemaError
from ingest.warehouse import WarehouseLocked, connect, utc_now

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
        forget_run_fingerprint(workspace)
    report(format_report(result))
    return result


def build(workspace: Workspace, report: Reporter | None = None) -> None:
    report = report or Reporter()
    # dbt unit tests check the SQL, not the household's data: they run with the test suite.
    result = run_dbt(workspace, "build", ["--exclude-resource-type", "unit_test"])
    _remember(
        workspace,
        build={
            "succeeded": result.succeeded,
            "failures": result.failures,
            "finished_at": utc_now().isoformat() + "Z",
        },
    )
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
    last = _last_run(workspace)
    if not last.get("build", {}).get("succeeded"):
        raise PipelineError("the last dbt build did not pass: run `balance build` first")
    _import_changed_answers(workspace, last, report)
    for stale in remove_stale_temporaries(workspace.output):
        report.detail(f"removed {workspace.relative(stale)}, left by an interrupted run")
    try:
        with connect(workspace.warehouse, read_only=True) as connection:
            parquet_files = export_parquet(connection, workspace.powerbi)
            queue = queue_txn_ids(connection)
            # Answers that could not be used stay on their rows while those wait for review.
            queued = set(queue)
            kept = {
                t: a for t, a in _last_run(workspace).get("kept_answers", {}).items() if t in queued
            }
            written = export_workbook(connection, workspace.workbook, kept)
            written_answers = written_answers_fingerprint(queue, kept)
            summary = read_balance_summary(connection) | read_health(connection)
            report.debug(_row_counts(connection))
    except (WarehouseLocked, UnsafeColumnType) as error:
        raise PipelineError(str(error)) from None
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
        side_workbooks = _last_run(workspace).get("side_workbooks", {}) | {
            shown: {"answers": written_answers, "stat": file_state(written)}
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
    loaded = connection.execute("select count(*) from raw.transactions").fetchone()[0]
    kinds = connection.execute(
        "select kind, count(*) from marts.fct_transactions group by kind order by kind"
    ).fetchall()
    shares = connection.execute("select count(*) from marts.fct_shares").fetchone()[0]
    by_kind = ", ".join(f"{kind} {count}" for kind, count in kinds)
    return f"raw rows {loaded}; transactions: {by_kind}; share rows {shares}"


def import_review(
    workspace: Workspace, report: Reporter | None = None, workbook: str | None = None
) -> ReviewImport:
    report = report or Reporter()
    path = Path(workbook) if workbook else workspace.workbook
    if not path.exists():
        raise PipelineError(f"{path}: no such workbook; run `balance run` to write one")
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
        for txn_id, answer in _last_run(workspace).get("kept_answers", {}).items()
        if txn_id not in result.txn_ids_read
    }
    _remember(workspace, kept_answers=kept | result.kept)
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


def _import_changed_answers(workspace: Workspace, last: dict, report: Reporter) -> None:
    """Answers typed into the workbook since it was written go to the journal first (§9.19);
    then those typed into side workbooks written while it was open, oldest first (they were
    written later than the main one, so their answers are the newer)."""
    if workspace.workbook.exists():
        recorded = {"answers": last.get("workbook_answers"), "stat": last.get("workbook_stat")}
        now = _import_if_changed(workspace, workspace.workbook, recorded, report)
        _remember(workspace, workbook_answers=now["answers"], workbook_stat=now["stat"])
    side_workbooks = {}
    for shown, recorded in sorted(last.get("side_workbooks", {}).items()):
        path = workspace.root / shown
        if path.exists():  # one the user deleted has nothing more to give
            side_workbooks[shown] = _import_if_changed(workspace, path, recorded, report)
    if side_workbooks or last.get("side_workbooks"):
        _remember(workspace, side_workbooks=side_workbooks)


def _import_if_changed(workspace: Workspace, path: Path, recorded: dict, report: Reporter) -> dict:
    """Import the answers of one workbook if they changed since recorded; returns its record."""
    stat = file_state(path)
    if stat == recorded.get("stat"):
        # Saving answers rewrites the file, which changes its size or modification time.
        report.debug(f"{workspace.relative(path)} is as last recorded; not read")
        return recorded
    answers = workbook_answers_fingerprint(path)
    if answers != recorded.get("answers"):
        import_review(workspace, report, str(path))
    return {"answers": answers, "stat": stat}


def inputs_fingerprint(workspace: Workspace) -> str:
    """What a run depends on (§9.22): exports, configuration, journal, answers, this version."""
    digest = hashlib.sha256(version("balance").encode())
    workspace_inputs = [
        *inbox_files(workspace),
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
    return digest.hexdigest()


def forget_run_fingerprint(workspace: Workspace) -> None:
    """Make the next `run` do its work even when its inputs are as at the last one: after
    `forget` or `restore` the warehouse no longer holds what those inputs loaded."""
    _remember(workspace, fingerprint=None)


def run(workspace: Workspace, report: Reporter | None = None, force: bool = False) -> RunOutcome:
    """The daily command: answers first, then new files, then build and export if anything moved."""
    report = report or Reporter()
    last = _last_run(workspace)
    _import_changed_answers(workspace, last, report)
    fingerprint = inputs_fingerprint(workspace)
    outputs_present = workspace.workbook.exists() and workspace.powerbi.is_dir()
    if (
        not force
        and outputs_present
        and last.get("fingerprint") == fingerprint
        and last.get("build", {}).get("succeeded")
    ):
        report("Nothing changed since the last run; outputs are up to date.")
        return RunOutcome(last.get("statement", ""), last.get("files_quarantined", 0), skipped=True)
    with _timed(report, "ingest"):
        ingested = ingest(workspace, report)
    quarantined = len(ingested.rejected)
    _remember(
        workspace,
        files_quarantined=quarantined,
        quarantined_files=[f.path for f in ingested.rejected],
    )
    with _timed(report, "build"):
        build(workspace, report)
    with _timed(report, "export"):
        export(workspace, report)
    _remember(workspace, fingerprint=fingerprint, last_run=utc_now().isoformat() + "Z")
    summary = _last_run(workspace)
    return RunOutcome(summary["statement"], quarantined)


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
    invariants = run_dbt(workspace, "test", ["--select", "path:tests/invariants"])
    statuses = list(invariants.statuses.values())
    warnings = statuses.count("warn")  # orphan decisions: listed with the findings below
    held = f"Invariants: {statuses.count('pass')} of {len(statuses) - warnings} hold"
    report(held + (f"; {warnings} warning(s), listed below" if warnings else ""))
    for failure in invariants.failures:
        report(f"  FAILED {failure}  (balance status; fix the data, then balance run)")
    with connect(workspace.warehouse, read_only=True) as connection:
        findings = connection.execute(
            "select check_name, subject, detail, next_step from marts.rpt_data_quality "
            "order by check_name, subject"
        ).fetchall()
        links = read_account_links(connection)
    current = None
    for check_name, subject, detail, next_step in findings:
        if check_name != current:
            count = sum(1 for row in findings if row[0] == check_name)
            report(f"{CHECK_TITLES[check_name]} ({count}):")
            current = check_name
        report(f"  {subject}: {detail}\n    → {next_step}")
    kept = _last_run(workspace).get("kept_answers", {})
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


def status_text(workspace: Workspace, as_json: bool = False) -> str:
    last = _last_run(workspace)
    if not last.get("last_run"):
        raise PipelineError(f"no completed run in {workspace.root} yet: run `balance run` first")
    status = {
        "balance": last["balance"],
        "statement": last["statement"],
        "pending_review": last["pending_review"],
        "pending_amount": last["pending_amount"],
        "files": {"loaded": last["files_loaded"], "quarantined": last.get("files_quarantined", 0)},
        "last_run": last["last_run"],
        "last_build": last.get("build", {}),
        "transactions_by_kind": last.get("transactions_by_kind", {}),
        "warnings": last.get("warnings", []),
        "account_links": last.get("account_links", []),
        "answers_not_imported": [
            {"txn_id": txn_id, **answer}
            for txn_id, answer in sorted(last.get("kept_answers", {}).items())
        ],
    }
    if as_json:
        return json.dumps(status, indent=2)
    build_state = status["last_build"]
    lines = [
        status["statement"],
        f"pending review: {status['pending_review']} expense(s), ${status['pending_amount']}",
        f"files: {status['files']['loaded']} loaded, {status['files']['quarantined']} rejected",
        f"last run: {status['last_run']}",
    ]
    if build_state.get("succeeded", True):
        lines.append(f"last build: passed at {build_state.get('finished_at', '?')}")
    else:
        lines.append("last build FAILED: " + "; ".join(build_state.get("failures", [])))
    for path in last.get("quarantined_files", []):
        lines.append(f"rejected: {path} (`balance doctor {path}` says why)")
    kinds = status["transactions_by_kind"]
    if kinds:
        counts = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
        lines.append(f"transactions: {sum(kinds.values())} ({counts})")
    lines += status["account_links"]
    lines += [
        f"answer not imported: {line}"
        for line in _kept_answer_lines(workspace, last.get("kept_answers", {}))
    ]
    lines += [f"warning: {warning}" for warning in status["warnings"]]
    return "\n".join(lines)


def _last_run(workspace: Workspace) -> dict:
    if not workspace.last_run_file.exists():
        return {}
    return json.loads(workspace.last_run_file.read_text(encoding="utf-8"))


def _remember(workspace: Workspace, **facts) -> None:
    """Merge facts into logs/last_run.json, which `status` reads without the warehouse."""
    state = _last_run(workspace) | facts
    make_private_dir(workspace.logs)
    write_private_text(workspace.last_run_file, json.dumps(state, indent=2, sort_keys=True))
