"""Time the pipeline on a generated household: each step, end to end, and the daily re-runs.

    python bench/harness.py --transactions 100000 --members 3 --repeat 3 --json bench.json

For each repeat, on fresh copies of one generated workspace (so every run starts without a
warehouse): `balance ingest`, `balance build` and `balance export` one after the other; then, on
another copy, `balance run` end to end, `balance run` again with nothing new, and `balance run`
after one new monthly file (generate.py --add-month). Each command runs as a child process, timed
on the wall clock, with its peak memory. Prints a table of medians against the targets of
docs/performance.md and writes everything, with dbt's slowest nodes, to --json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import duckdb
from generate import add_month, read_manifest, write_workspace

GNU_TIME = Path("/usr/bin/time")
BALANCE = Path(sys.executable).with_name("balance")
SLOWEST_NODES_SHOWN = 10

STEPS = {
    "ingest": "balance ingest",
    "build": "balance build (dbt build)",
    "export": "balance export",
    "run_end_to_end": "balance run, fresh warehouse",
    "rerun_no_change": "balance run again, nothing new",
    "run_one_new_month": "balance run, one new monthly file",
}

# docs/performance.md: 100k rows end to end in 12 s, 1M in 60 s (linear in between; the 100k
# figure also bounds smaller households), at most 3 GiB, and the fixed targets below.
END_TO_END_SECONDS = ((100_000, 12.0), (1_000_000, 60.0))
PEAK_MEMORY_MIB = 3 * 1024
RERUN_SECONDS = 4.0
NEW_MONTH_SECONDS = 10.0
INGEST_ROWS_PER_SECOND = 250_000


@dataclass
class Timed:
    seconds: float
    peak_rss_mib: float | None
    exit_code: int
    output: str


class StepFailed(RuntimeError):
    pass


class MemoryProbe:
    """Peak resident memory of a child command, the largest process of its tree included.

    GNU time -v reports the maximum RSS of the child, which Linux raises to that of any
    descendant it waited for (dbt runs under `balance build`). Without it, getrusage of the
    children gives the same figure only when it exceeds every earlier child's.
    """

    def __init__(self):
        self.uses_gnu_time = GNU_TIME.exists()
        self.method = (
            "/usr/bin/time -v: maximum resident set size of the command's largest process"
            if self.uses_gnu_time
            else "resource.getrusage(RUSAGE_CHILDREN).ru_maxrss before/after each command "
            "(None when a command stayed below an earlier command's peak)"
        )

    def run(self, command: list[str], timeout: float) -> Timed:
        with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
            prefix = [str(GNU_TIME), "-v", "-o", report.name] if self.uses_gnu_time else []
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            started = time.perf_counter()
            # A session of its own, so a timeout ends the whole tree (time, balance, dbt).
            process = subprocess.Popen(
                prefix + command,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=os.environ | {"DO_NOT_TRACK": "1"},
                start_new_session=True,
            )
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                raise StepFailed(f"{' '.join(command)} ran longer than {timeout:.0f} s") from None
            seconds = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            if self.uses_gnu_time:
                match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read())
                peak_kib = int(match[1]) if match else None
            else:
                peak_kib = after if after > before else None
        peak_mib = round(peak_kib / 1024, 1) if peak_kib else None
        return Timed(round(seconds, 3), peak_mib, process.returncode, stdout + stderr)


def balance(probe: MemoryProbe, step: str, workspace: Path, timeout: float) -> Timed:
    timed = probe.run([str(BALANCE), step, "--workspace", str(workspace)], timeout)
    if timed.exit_code != 0:
        tail = "\n".join(timed.output.strip().splitlines()[-5:])
        raise StepFailed(f"balance {step} exited {timed.exit_code} in {workspace}:\n{tail}")
    return timed


def fresh_copy(generated: Path, destination: Path) -> Path:
    """The generated sources only: no warehouse, outputs or logs from an earlier run."""
    shutil.rmtree(destination, ignore_errors=True)
    return Path(shutil.copytree(generated, destination))


def query_one(workspace: Path, sql: str):
    connection = duckdb.connect(
        str(workspace / "warehouse" / "balance.duckdb"),
        read_only=True,
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    try:
        return connection.execute(sql).fetchone()[0]
    finally:
        connection.close()


def rows_loaded(workspace: Path) -> int:
    return int(query_one(workspace, "select coalesce(sum(rows_loaded), 0) from raw.files"))


def rows_in_raw(workspace: Path) -> int:
    return int(query_one(workspace, "select count(*) from raw.transactions"))


def warehouse_facts(workspace: Path) -> dict:
    """What the built warehouse says, to compare with the generator's manifest."""
    facts = {
        "files_loaded": "select count(*) from raw.files",
        "files_rejected": """
            select count(*) from (
                select file_path, arg_max(status, attempted_at) as latest_status
                from raw.file_attempts group by file_path
            ) where latest_status = 'rejected'""",
        "raw_rows": "select count(*) from raw.transactions",
        "transactions": "select count(*) from marts.fct_transactions",
        "duplicates": "select count(*) from marts.fct_transactions where kind = 'duplicate'",
        "suspected_duplicates": """
            select count(*) from marts.fct_transactions where is_suspected_duplicate""",
        "transfers": "select count(*) from marts.fct_transactions where kind = 'transfer'",
        "settlement_pairs": """
            select count(*) from marts.fct_settlements where identified_by = 'paired'""",
        "refunds": """
            select count(*) from marts.fct_transactions
            where kind = 'expense' and amount_cents > 0""",
        "pending_review": "select max(pending_review_count) from marts.rpt_balance",
        "net_cents_sum": "select sum(net_cents) from marts.rpt_balance",
    }
    return {name: int(query_one(workspace, sql)) for name, sql in facts.items()}


def dbt_nodes(workspace: Path) -> dict:
    """dbt's own timings of the last build in this workspace."""
    results = json.loads(
        (workspace / "logs" / "dbt" / "target" / "run_results.json").read_text(encoding="utf-8")
    )
    nodes = {}
    for result in results["results"]:
        # unique_id: model.balance.<name>, or test.balance.<name>.<hash> for generic tests
        resource_type, _project, name, *_hash = result["unique_id"].split(".")
        nodes[f"{resource_type}:{name}"] = round(result["execution_time"], 3)
    return {"elapsed_seconds": round(results["elapsed_time"], 3), "nodes": nodes}


def last_build_succeeded(workspace: Path) -> bool:
    state = json.loads((workspace / "logs" / "last_run.json").read_text(encoding="utf-8"))
    return bool(state.get("build", {}).get("succeeded"))


def one_repeat(probe, generated: Path, scratch: Path, timeout: float, record: dict, log) -> None:
    """Every timed command once, on fresh copies of the generated workspace.

    Fills `record` as it goes, so a command that fails or times out leaves what came before.
    """
    timings = record.setdefault("timings", {})

    def timed(step: str, command: str, workspace: Path) -> Timed:
        result = balance(probe, command, workspace, timeout)
        timings[step] = {"seconds": result.seconds, "peak_rss_mib": result.peak_rss_mib}
        log(f"  {STEPS[step]}: {result.seconds:.1f} s")
        return result

    steps_copy = fresh_copy(generated, scratch / f"repeat-{record['repeat']}-steps")
    timed("ingest", "ingest", steps_copy)
    record["rows_loaded"] = rows_loaded(steps_copy)
    timed("build", "build", steps_copy)
    record["dbt_build_step"] = dbt_nodes(steps_copy)
    timed("export", "export", steps_copy)

    run_copy = fresh_copy(generated, scratch / f"repeat-{record['repeat']}-run")
    timed("run_end_to_end", "run", run_copy)
    facts = warehouse_facts(run_copy) | {"build_succeeded": last_build_succeeded(run_copy)}
    record["facts"] = facts
    record["dbt_run_end_to_end"] = dbt_nodes(run_copy)
    rerun = timed("rerun_no_change", "run", run_copy)
    # The fingerprint covers the project's models too: an edit during the benchmark rebuilds.
    facts["rerun_skipped"] = "Nothing changed" in rerun.output
    added = add_month(run_copy)["files"][-1]
    facts["new_month_rows"] = added["rows"]
    timed("run_one_new_month", "run", run_copy)
    facts["raw_rows_after_new_month"] = rows_in_raw(run_copy)
    record["dbt_run_one_new_month"] = dbt_nodes(run_copy)


def end_to_end_target(transactions: int) -> float:
    (small_n, small_s), (large_n, large_s) = END_TO_END_SECONDS
    if transactions <= small_n:
        return small_s
    share = min(1.0, (transactions - small_n) / (large_n - small_n))
    return round(small_s + share * (large_s - small_s), 1)


def median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return round(statistics.median(present), 3) if present else None


def summarise(repeats: list[dict], transactions: int) -> dict:
    steps = {}
    for step in STEPS:
        runs = [repeat["timings"][step] for repeat in repeats]
        peaks = [run["peak_rss_mib"] for run in runs]
        steps[step] = {
            "seconds": median([run["seconds"] for run in runs]),
            "runs": [run["seconds"] for run in runs],
            "peak_rss_mib": max((peak for peak in peaks if peak is not None), default=None),
        }
    steps["rerun_no_change"]["skipped_build"] = [
        repeat["facts"]["rerun_skipped"] for repeat in repeats
    ]
    ingest_rates = [
        repeat["rows_loaded"] / repeat["timings"]["ingest"]["seconds"] for repeat in repeats
    ]
    rate = round(statistics.median(ingest_rates))
    peak = max((step["peak_rss_mib"] or 0 for step in steps.values()), default=0)
    measured = {
        "run_end_to_end_seconds": (
            steps["run_end_to_end"]["seconds"],
            end_to_end_target(transactions),
        ),
        "peak_memory_mib": (peak, PEAK_MEMORY_MIB),
        "rerun_no_change_seconds": (steps["rerun_no_change"]["seconds"], RERUN_SECONDS),
        "run_one_new_month_seconds": (steps["run_one_new_month"]["seconds"], NEW_MONTH_SECONDS),
    }
    targets = {
        name: {"measured": value, "at_most": limit, "met": value <= limit}
        for name, (value, limit) in measured.items()
    }
    targets["ingest_rows_per_second"] = {
        "measured": rate,
        "at_least": INGEST_ROWS_PER_SECOND,
        "met": rate >= INGEST_ROWS_PER_SECOND,
    }
    return {"steps": steps, "ingest_rows_per_second": rate, "targets": targets}


def dbt_summary(repeats: list[dict], build_seconds: float) -> dict:
    """Median per node over the repeats' end-to-end runs, slowest first; and dbt's fixed cost."""
    names = repeats[0]["dbt_run_end_to_end"]["nodes"]
    per_node = {
        name: median([repeat["dbt_run_end_to_end"]["nodes"].get(name) for repeat in repeats])
        for name in names
    }
    slowest = sorted(per_node.items(), key=lambda item: -item[1])[:SLOWEST_NODES_SHOWN]
    elapsed = median([repeat["dbt_build_step"]["elapsed_seconds"] for repeat in repeats])
    new_month = median([r["dbt_run_one_new_month"]["elapsed_seconds"] for r in repeats])
    return {
        "node_count": len(per_node),
        "build_elapsed_seconds": elapsed,
        "outside_nodes_seconds": round(build_seconds - elapsed, 3),
        "new_month_elapsed_seconds": new_month,
        "sum_of_node_seconds": round(sum(per_node.values()), 3),
        "slowest_nodes": [{"node": name, "seconds": seconds} for name, seconds in slowest],
    }


def machine() -> dict:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024**2, 1),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "duckdb": version("duckdb"),
        "dbt_core": version("dbt-core"),
        "dbt_duckdb": version("dbt-duckdb"),
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
    }


def yes_no(target: dict) -> str:
    return "yes" if target["met"] else "NO"


def format_table(report: dict) -> str:
    header = ("step", "median s", "runs (s)", "peak MiB", "target", "met")
    targets = report["targets"]
    target_of = {
        "run_end_to_end": targets["run_end_to_end_seconds"],
        "rerun_no_change": targets["rerun_no_change_seconds"],
        "run_one_new_month": targets["run_one_new_month_seconds"],
    }
    rows = []
    for step, label in STEPS.items():
        measured = report["steps"][step]
        target = target_of.get(step)
        rows.append(
            (
                label,
                f"{measured['seconds']:.2f}",
                " ".join(f"{seconds:.1f}" for seconds in measured["runs"]),
                f"{measured['peak_rss_mib']:.0f}" if measured["peak_rss_mib"] else "?",
                f"<= {target['at_most']:g} s" if target else "",
                yes_no(target) if target else "",
            )
        )
    rate, peak = targets["ingest_rows_per_second"], targets["peak_memory_mib"]
    rate_target = f">= {rate['at_least']:,}"
    rows.append(("ingest rows/s", f"{rate['measured']:,}", "", "", rate_target, yes_no(rate)))
    peak_target = f"<= {peak['at_most']} MiB"
    rows.append(
        ("peak memory, any step", "", "", f"{peak['measured']:.0f}", peak_target, yes_no(peak))
    )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    rebuilt = report["steps"]["rerun_no_change"]["skipped_build"].count(False)
    if rebuilt:
        lines.append(
            f"{rebuilt} re-run(s) with nothing new rebuilt anyway: the project's models or rules "
            "changed while the benchmark ran (their fingerprint is part of the inputs)"
        )
    dbt = report["dbt"]
    lines.append(
        f"dbt build: {dbt['node_count']} nodes, {dbt['build_elapsed_seconds']:.1f} s inside dbt's "
        f"run, {dbt['outside_nodes_seconds']:.1f} s start-up and parsing around it"
    )
    lines.append("slowest dbt nodes (end-to-end run, median):")
    lines += [f"  {node['seconds']:7.2f} s  {node['node']}" for node in dbt["slowest_nodes"]]
    lines.append(f"peak memory: {report['memory_method']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transactions", type=int, required=True)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; medians reported")
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--keep", type=Path, help="keep the workspaces in this folder")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds before one command counts as failed"
    )
    args = parser.parse_args(argv)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    scratch = args.keep or Path(tempfile.mkdtemp(prefix="balance-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    generated = scratch / "generated"
    probe = MemoryProbe()
    report: dict = {"machine": machine(), "memory_method": probe.method}
    try:
        shutil.rmtree(generated, ignore_errors=True)
        started = time.perf_counter()
        write_workspace(generated, args.transactions, args.members, args.seed)
        manifest = read_manifest(generated)
        report["workload"] = {
            "transactions": manifest["transactions"],
            "members": len(manifest["members"]),
            "seed": args.seed,
            "months": manifest["months"],
            "files": len(manifest["files"]),
            "rows_written": manifest["rows_written"],
            "generate_seconds": round(time.perf_counter() - started, 2),
            "repeat": args.repeat,
        }
        report["expected"] = manifest["expected"]
        log(f"generated {manifest['rows_written']} rows in {len(manifest['files'])} files")
        repeats: list[dict] = []
        report["repeats"] = repeats  # kept when a later repeat fails: how far it got
        for number in range(1, args.repeat + 1):
            log(f"repeat {number}/{args.repeat}")
            repeats.append({"repeat": number})
            one_repeat(probe, generated, scratch, args.timeout, repeats[-1], log)
            if not args.keep:
                for folder in scratch.glob(f"repeat-{number}-*"):
                    shutil.rmtree(folder)
        report |= summarise(repeats, args.transactions)
        report["dbt"] = dbt_summary(repeats, report["steps"]["build"]["seconds"])
        report["facts"] = repeats[-1]["facts"]
        report["machine"]["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    except StepFailed as error:
        report["error"] = str(error)
        log(f"harness: {error}")
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if "error" in report:
        return 1
    print(format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
