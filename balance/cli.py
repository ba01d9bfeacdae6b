"""The `balance` command: a thin layer over the pipeline's functions."""

from __future__ import annotations

import functools
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from balance import operations, pipeline
from balance.init import InitError, init_workspace, missing_for_a_run, parse_member_ids, run_command
from balance.reporting import Reporter, open_run_log
from core.locking import WorkspaceBusy, workspace_lock, workspace_temporary_files
from core.workspace import DEMO_WORKSPACE, describe_os_error, resolve_workspace
from ingest.doctor import format_diagnosis
from ingest.warehouse import WarehouseLocked

os.environ.setdefault("DO_NOT_TRACK", "1")


class Failure(click.ClickException):
    """A failure the user can act on: one line, exit code 1 (or the code given)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"balance: {self.message}", err=True)


def _echo_warning(text: str) -> None:
    click.echo(text, err=True)


def _run_command(workspace, name: str, writes: bool, verbose: int, debug: bool, command, kwargs):
    """Run one command with its reporter; a writer holds the workspace lock and logs its run."""
    if not writes:
        report = Reporter(click.echo, verbose, debug, write_warning=_echo_warning)
        return command(workspace, report, **kwargs)
    if name != "restore":  # a restore may start from an empty folder
        missing = missing_for_a_run(workspace)
        if missing:
            raise Failure(missing)
    with (
        workspace_lock(workspace),
        workspace_temporary_files(workspace),
        open_run_log(workspace, name) as log,
    ):
        report = Reporter(click.echo, verbose, debug, log, write_warning=_echo_warning)
        report.detail(f"balance {name} in {workspace.root}", level=2)
        return command(workspace, report, **kwargs)


@contextmanager
def _one_line_failures(workspace):
    """Every failure as one line and its exit code: 2 only for a failing invariant,
    1 for anything else, a workspace or warehouse held by another program included."""
    try:
        yield
    except pipeline.PipelineError as error:
        if error.exit_code == pipeline.EXIT_INVARIANT_FAILED:
            locked = operations.warehouse_lock_message(workspace)
            if locked:  # dbt could not open the warehouse: nothing is wrong with the data
                raise Failure(locked) from None
        raise Failure(str(error), error.exit_code) from None
    except (operations.OperationError, WarehouseLocked, WorkspaceBusy, InitError) as error:
        raise Failure(str(error)) from None
    except OSError as error:  # a folder or file of the workspace that cannot be used
        raise Failure(describe_os_error(workspace, error)) from None


def workspace_command(name: str, writes: bool = False):
    """Options every command shares: --workspace DIR (or BALANCE_WORKSPACE), -v, --debug.

    Commands that change the workspace (`writes`) take its lock, so two cannot overlap, and
    leave a log in logs/.
    """

    def decorate(command):
        @click.option(
            "--workspace",
            "workspace_dir",
            metavar="DIR",
            envvar="BALANCE_WORKSPACE",
            help="The household's folder (default: the current directory).",
        )
        @click.option(
            "-v", "--verbose", count=True, help="More detail: -v dbt's summary, -vv all of it."
        )
        @click.option(
            "--debug",
            is_flag=True,
            help="Row counts and timings of each step; dbt's statements in logs/dbt/dbt.log.",
        )
        @functools.wraps(command)
        def wrapper(workspace_dir, verbose, debug, **kwargs):
            os.umask(0o077)  # what balance creates is readable by the user alone
            workspace = resolve_workspace(workspace_dir)
            with _one_line_failures(workspace):
                return _run_command(workspace, name, writes, verbose, debug, command, kwargs)

        return wrapper

    return decorate


class BalanceGroup(click.Group):
    """A mistyped command line exits 1, like every failure but a failing invariant:
    click's own code for it is 2, which here means "fix the data"."""

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            error.exit_code = 1
            raise

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            error.exit_code = 1
            raise


@click.group(cls=BalanceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="balance")
def cli():
    """Turn a household's bank exports into one reconciled ledger: who owes whom, and why.

    \b
    Start:   balance init --members alex,sam
    Daily:   balance run            (drop exports in csv_inbox/<member>/ first)
    Review:  answer Queue_Review in output/balance_data.xlsx, then balance run
    Health:  balance status
    Try it:  balance demo
    """


@cli.command()
def demo():
    """Run the bundled demo household (examples/demo) and print its balance.

    Writes examples/demo/warehouse and examples/demo/output; never touches your data.

    \b
    Example:
      balance demo
    """
    os.umask(0o077)
    workspace = resolve_workspace(DEMO_WORKSPACE)
    with _one_line_failures(workspace):
        outcome = _run_command(workspace, "demo", True, 0, False, pipeline.run, {})
    click.echo(outcome.statement_text)


@cli.command()
@click.argument("directory", metavar="[DIR]", required=False)
@click.option(
    "--members",
    metavar="IDS",
    help="The members' short ids, comma-separated (alex,sam); each gets csv_inbox/<id>/.",
)
@click.option(
    "--workspace",
    "workspace_dir",
    metavar="DIR",
    envvar="BALANCE_WORKSPACE",
    help="The same as DIR (default: the current directory).",
)
def init(directory, members, workspace_dir):
    """Start a household: make a workspace in DIR with household/ (members.csv and
    split_policies.csv for the members, the optional files with their headers), csv_inbox/<id>/
    for each member, rules/, decisions/ and a README.md saying what goes where.

    Never overwrites a file; refuses a folder that already holds a household.

    \b
    Example:
      balance init ~/household --members alex,sam
      cd ~/household && balance run
    """
    os.umask(0o077)
    workspace = resolve_workspace(directory or workspace_dir)
    with _one_line_failures(workspace):
        member_ids = parse_member_ids(members) if members is not None else None
        result = init_workspace(workspace.root, member_ids)
    click.echo(f"a balance workspace for {', '.join(result.members)} in {workspace.root}:")
    for name in result.created:
        click.echo(f"  created {name}")
    for name in result.kept:
        click.echo(f"  kept {name} as it was")
    click.echo(
        "next: put each member's exports in csv_inbox/<member>/, "
        f"then `{run_command(workspace.root)}`"
    )


@cli.command()
@workspace_command("run", writes=True)
@click.option("--strict", is_flag=True, help="Exit 3 when a file was rejected.")
@click.option("--force", is_flag=True, help="Build and export even when nothing changed.")
def run(workspace, report, strict, force):
    """Import review answers, ingest new exports, build, test and export.

    \b
    Example:
      balance run
      balance run --workspace ~/household --strict
    """
    outcome = pipeline.run(workspace, report, force=force)
    report(outcome.statement_text)
    if strict and outcome.rejected_files:
        raise Failure(f"{outcome.rejected_files} file(s) rejected (--strict)", exit_code=3)


@cli.command()
@workspace_command("ingest", writes=True)
@click.option("--strict", is_flag=True, help="Exit 3 when a file was rejected.")
def ingest(workspace, report, strict):
    """Load new exports from csv_inbox/ into the warehouse's raw tables.

    Same as `python ingest/load.py`. A file that cannot be read is reported with its reason and
    left where it is; the other files still load.

    \b
    Example:
      balance ingest --workspace examples/demo
    """
    result = pipeline.ingest(workspace, report)
    if strict and result.rejected:
        raise Failure(f"{len(result.rejected)} file(s) rejected (--strict)", exit_code=3)


@cli.command()
@workspace_command("build", writes=True)
def build(workspace, report):
    """Run `dbt build` (models and reconciliation tests) on the workspace's warehouse.

    \b
    Example:
      balance build
    """
    operations.require_unlocked_warehouse(workspace)
    pipeline.build(workspace, report)


@cli.command()
@workspace_command("export", writes=True)
def export(workspace, report):
    """Write output/powerbi/*.parquet and output/balance_data.xlsx from the last green build.

    \b
    Example:
      balance export
    """
    pipeline.export(workspace, report)


@cli.group()
def review():
    """The review round trip between the workbook and decisions/review_decisions.csv.

    `balance run` imports the answers by itself; `review import` does only that step.

    \b
    Example:
      balance review import
      balance review import ~/Downloads/balance_data.xlsx
    """


@review.command("import")
@workspace_command("review-import", writes=True)
@click.argument("workbook", required=False, type=click.Path(dir_okay=False))
def review_import(workspace, report, workbook):
    """Append the answers in Queue_Review to decisions/review_decisions.csv.

    WORKBOOK defaults to output/balance_data.xlsx. Only answers that differ from what the export
    wrote count; invalid ones are reported with their sheet row and stay pending.

    \b
    Example:
      balance review import
      balance review import ~/Downloads/balance_data.xlsx
    """
    pipeline.import_review(workspace, report, workbook)


@cli.command()
@workspace_command("shell")
@click.option(
    "--command", "-c", "sql", metavar="SQL", help="Run SQL and exit instead of opening the shell."
)
def shell(workspace, report, sql):
    """Open the DuckDB shell on a read-only snapshot of the warehouse.

    Every run refreshes output/warehouse_snapshot.duckdb, so a shell left open never stops the
    next run; it shows the warehouse as that run left it. Schemas: raw, staging,
    intermediate, marts (start with marts; columns carry their descriptions).

    \b
    Example:
      balance shell
      balance shell -c "select statement from marts.rpt_balance limit 1"
    """
    exit_code = pipeline.shell(workspace, sql)
    if exit_code:
        raise SystemExit(exit_code)


@cli.command()
@workspace_command("docs", writes=True)
def docs(workspace, report):
    """Build the documentation site of the models: every table and column, their tests and
    lineage, as one page at output/docs/index.html.

    \b
    Example:
      balance docs
    """
    pipeline.build_docs(workspace, report)


@cli.command()
@workspace_command("status")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def status(workspace, report, as_json):
    """Show the balance, what waits for review, and the files of the last run.

    Reads what the last run wrote, so it works while the warehouse is open elsewhere.

    \b
    Example:
      balance status
      balance status --json
    """
    report(pipeline.status_text(workspace, as_json=as_json, report=report))


@cli.command()
@workspace_command("check", writes=True)
def check(workspace, report):
    """The weekly quality pass: invariants, possible duplicates, refunds without purchase,
    unusually large amounts, uncategorised merchants, statement balances, orphan decisions.

    Each finding comes with the command that shows more. Exits 1 when something needs
    attention, 0 when all is well.

    \b
    Example:
      balance check
    """
    operations.require_unlocked_warehouse(workspace)
    attention = pipeline.check(workspace, report)
    if attention:
        raise Failure(f"{attention} finding(s) need attention")


@cli.command()
@workspace_command("settle", writes=True)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Last day of the statement, YYYY-MM-DD, included (default: the latest data).",
)
def settle(workspace, report, as_of):
    """The month-end statement: opening balance, shared spending by category and payer,
    settlements, closing balance and who pays whom. Also written to
    output/settlement_<date>.xlsx.

    \b
    Example:
      balance settle
      balance settle --as-of 2026-09-30
    """
    pipeline.settle(workspace, report, as_of.date() if as_of else None)


@cli.command()
@workspace_command("audit", writes=True)
def audit(workspace, report):
    """Write the full audit trail: every transaction with its file, line and raw line, and
    every rule and decision applied, to output/audit/audit_trail.csv and .parquet.

    \b
    Example:
      balance audit
    """
    pipeline.audit(workspace, report)


@cli.command()
@workspace_command("explain")
@click.argument("txn_id")
def explain(workspace, report, txn_id):
    """Explain one transaction: its file and line, every rule and decision, and its effect.

    TXN_ID is the txn_id column of the workbook (a unique prefix of 6+ characters will do).

    \b
    Example:
      balance explain 60dc3dc0e4b3
    """
    report(pipeline.explain(workspace, txn_id))


@cli.command()
@workspace_command("doctor")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--draft-schema",
    is_flag=True,
    help="Write a starter schema for FILE's layout into rules/ (never over an existing file).",
)
def doctor(workspace, report, file, draft_schema):
    """Explain how FILE reads: encoding, delimiter, header, each schema's verdict, first rows.

    Exits 0 when the file would load, 1 when it would be rejected (the reason is shown). With
    --draft-schema, writes rules/<name>.yaml with the delimiter, header, date format and
    amount columns sniffed from FILE: check it, then run doctor again.

    \b
    Example:
      balance doctor csv_inbox/alex/chase_2026-11.csv
      balance doctor csv_inbox/sam/umsaetze.csv --draft-schema
    """
    if draft_schema:
        written = pipeline.draft_schema(workspace, Path(file))
        report(f"wrote {workspace.relative(written)}: check it, then `balance doctor {file}`")
        return
    diagnosis = pipeline.doctor(workspace, Path(file))
    report(format_diagnosis(diagnosis))
    if not diagnosis.is_loadable:
        raise Failure("this file would be rejected (see the verdict above)")


@cli.command()
@workspace_command("archive", writes=True)
def archive(workspace, report):
    """Move inbox files already loaded into data/_archive/YYYY-MM/<member>/.

    Only files whose exact content is in the warehouse move; nothing else is touched, and running
    it again is safe. A rebuild from scratch still reads the archive.

    \b
    Example:
      balance archive
    """
    result = operations.archive_loaded_files(workspace)
    for source, target in result.moved:
        report(f"archived {source} -> {target}")
    for path in result.kept:
        report(f"kept {path}: not loaded (see `balance status`)")
    report(f"{len(result.moved)} file(s) archived, {len(result.kept)} kept in the inbox")


@cli.command()
@workspace_command("backup", writes=True)
def backup(workspace, report):
    """Write backups/balance-backup-<UTC time>.tar.gz of household/, rules/, decisions/,
    warehouse/, output/ and data/_archive/ (the archived exports a rebuild reads).

    Linked files are stored as their content; Excel's ~$ lock files are left out.

    \b
    Example:
      balance backup
    """
    result = operations.backup_workspace(workspace)
    for name in result.skipped:
        report(f"warning: {name} is a link to nothing; left out of the backup")
    report(f"backup written: {workspace.relative(result.path)}")


@cli.command()
@workspace_command("restore", writes=True)
@click.argument("backup_file", type=click.Path(dir_okay=False))
def restore(workspace, report, backup_file):
    """Restore the folders of a backup written by `balance backup`.

    The whole backup is read first: one that is cut short or damaged is refused and nothing
    changes. The folders it replaces are saved in a new backup, so a restore can be undone; if
    the restore fails midway, the workspace is left as it was.

    \b
    Example:
      balance restore backups/balance-backup-20261130T180000Z.tar.gz
    """
    backup = Path(backup_file)
    if not backup.exists() and (workspace.root / backup).exists():
        backup = workspace.root / backup  # as `balance backup` names it, inside the workspace
    safety = operations.restore_workspace(workspace, backup)
    pipeline.forget_run_fingerprint(workspace, report)
    if safety:
        report(f"the replaced folders are saved in {workspace.relative(safety)}")
    report(f"restored {backup_file}; run `balance run` to rebuild the outputs")


@cli.command()
@workspace_command("forget", writes=True)
@click.argument("file")
def forget(workspace, report, file):
    """Remove one loaded file's rows from the warehouse, e.g. a wrong download.

    FILE is the path it was loaded from, its current path, or its sha256. The file itself moves to
    data/_forgotten/ so it is not loaded again; run `balance run` afterwards.

    \b
    Example:
      balance forget csv_inbox/alex/wrong_account.csv
    """
    result = operations.forget_file(workspace, file)
    pipeline.forget_run_fingerprint(workspace, report)
    report(f"forgot {result.file_path}: {result.rows_removed} row(s) removed")
    if result.moved_to:
        report(f"moved the file to {result.moved_to}")


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="balance")
