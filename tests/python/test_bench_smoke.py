"""The benchmark at a small size: the generated household must load, build and balance exactly
as its manifest says, and the harness must report every figure. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
STEPS = {
    "ingest",
    "build",
    "export",
    "run_end_to_end",
    "rerun_no_change",
    "run_one_new_month",
}


def bench(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def generate(out: Path, *args: str) -> Path:
    sizes = ("--transactions", "2000", "--members", "3")
    completed = bench("generate.py", *sizes, "--out", str(out), *args)
    assert completed.returncode == 0, completed.stderr
    return out


def file_contents(workspace: Path) -> dict[str, bytes]:
    return {
        path.relative_to(workspace).as_posix(): path.read_bytes()
        for path in sorted(workspace.rglob("*"))
        if path.is_file()
    }


def test_generator_is_deterministic_per_seed(tmp_path):
    first = file_contents(generate(tmp_path / "first", "--seed", "7"))
    again = file_contents(generate(tmp_path / "again", "--seed", "7"))
    other = file_contents(generate(tmp_path / "other", "--seed", "8"))
    assert first == again
    assert first != other  # other account numbers, amounts and days


def test_add_month_writes_one_more_file_and_counts_it(tmp_path):
    workspace = generate(tmp_path / "household")
    before = json.loads((workspace / "bench_manifest.json").read_text())
    completed = bench("generate.py", "--add-month", "--out", str(workspace))
    assert completed.returncode == 0, completed.stderr
    after = json.loads((workspace / "bench_manifest.json").read_text())
    added = after["files"][-1]
    assert after["files"][:-1] == before["files"]
    assert (workspace / added["path"]).read_text().count("\n") == added["rows"] + 1
    assert after["rows_written"] == before["rows_written"] + added["rows"]
    assert after["added_months"] == 1


def test_generator_refuses_a_household_too_small_for_its_months(tmp_path):
    completed = bench(
        "generate.py", "--transactions", "100", "--members", "5", "--out", str(tmp_path / "w")
    )
    assert completed.returncode == 1
    assert "is too small for 5 members" in completed.stderr


@pytest.fixture(scope="module")
def harness_report(tmp_path_factory) -> dict:
    report_path = tmp_path_factory.mktemp("bench") / "bench.json"
    completed = bench(
        "harness.py",
        *("--transactions", "2000", "--members", "3", "--repeat", "1"),
        *("--json", str(report_path)),
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "balance run, fresh warehouse" in completed.stdout
    return json.loads(report_path.read_text())


@pytest.mark.slow
def test_generated_household_loads_and_reconciles_exactly(harness_report):
    facts, expected = harness_report["facts"], harness_report["expected"]
    workload = harness_report["workload"]
    assert facts["files_rejected"] == 0
    assert facts["files_loaded"] == workload["files"]
    assert facts["raw_rows"] == workload["rows_written"]
    # Overlapping downloads collapse; the aggregator's copies stay, as duplicates.
    assert facts["transactions"] == workload["transactions"] + expected["aggregator_copies"]
    assert facts["duplicates"] == expected["aggregator_copies"]
    assert facts["suspected_duplicates"] == 0
    assert facts["transfers"] == 2 * expected["card_payments"]
    assert facts["settlement_pairs"] == expected["settlement_pairs"]
    assert facts["refunds"] == expected["refunds"]
    assert facts["pending_review"] == expected["undecided_expenses"]
    assert facts["build_succeeded"] is True
    assert facts["net_cents_sum"] == 0
    assert facts["raw_rows_after_new_month"] == facts["raw_rows"] + facts["new_month_rows"]
    # Not asserted: facts["rerun_skipped"]. The re-run's fingerprint covers the project's models,
    # so it rebuilds whenever someone edits one while the harness runs.


@pytest.mark.slow
def test_harness_report_has_every_figure(harness_report):
    assert set(harness_report) >= {
        "machine",
        "memory_method",
        "workload",
        "expected",
        "steps",
        "ingest_rows_per_second",
        "targets",
        "dbt",
        "facts",
        "repeats",
    }
    assert set(harness_report["steps"]) == STEPS
    for step in harness_report["steps"].values():
        assert set(step) >= {"seconds", "runs", "peak_rss_mib"}
        assert len(step["runs"]) == 1
    assert set(harness_report["targets"]) == {
        "run_end_to_end_seconds",
        "peak_memory_mib",
        "rerun_no_change_seconds",
        "run_one_new_month_seconds",
        "ingest_rows_per_second",
    }
    assert len(harness_report["steps"]["rerun_no_change"]["skipped_build"]) == 1
    assert set(harness_report["dbt"]) >= {"node_count", "build_elapsed_seconds", "slowest_nodes"}
    assert harness_report["dbt"]["slowest_nodes"][0]["seconds"] > 0
    assert {"cpus", "memory_gib", "cpu_model"} <= set(harness_report["machine"])
