"""Killing `balance run` in each step, then running again, leaves correct outputs."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from support import net_cents

pytestmark = pytest.mark.system  # kills runs at each step

BALANCE = str(Path(sys.executable).with_name("balance"))
OCTOBER_GROCERIES = (
    "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"
    "2026-10-03,2026-10-04,2463,WHOLE FOODS MARKET #10234,Groceries,50.00,\n"
)


def outputs_digest(workspace: Path) -> dict[str, str]:
    files = sorted(p for p in (workspace / "output").rglob("*") if p.is_file())
    return {p.relative_to(workspace).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files}  # fmt: skip


def run_killed_when(workspace: Path, log_line: str) -> str:
    """Start `balance run`, kill it (and dbt under it) once its log shows `log_line`."""
    logs_before = set((workspace / "logs").glob("run-*.log"))
    process = subprocess.Popen(
        [BALANCE, "run", "--workspace", str(workspace)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    text = ""
    while time.monotonic() < deadline and process.poll() is None:
        new_logs = set((workspace / "logs").glob("run-*.log")) - logs_before
        text = next(iter(new_logs)).read_text() if new_logs else ""
        if log_line in text:
            os.killpg(process.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    process.wait()
    assert process.returncode == -signal.SIGKILL, f"the run ended before {log_line!r}:\n{text}"
    return text


def test_a_run_killed_in_each_step_is_repaired_by_the_next(demo_copy):
    before = outputs_digest(demo_copy)
    (demo_copy / "csv_inbox/alex/capital_one_2026-10.csv").write_text(OCTOBER_GROCERIES)

    log = run_killed_when(demo_copy, "[2/7] ")  # ingest: one file read, six to go
    assert "loaded, 1 rejected" not in log
    assert outputs_digest(demo_copy) == before

    log = run_killed_when(demo_copy, "build: starting")
    assert "dbt build passed" not in log
    assert outputs_digest(demo_copy) == before

    log = run_killed_when(demo_copy, "export: starting")
    assert "exported" not in log
    for path in (demo_copy / "output").rglob("*.parquet"):
        assert pq.read_table(path).num_columns > 0  # every file whole: old or new, never half

    completed = subprocess.run([BALANCE, "run", "--workspace", str(demo_copy)],
                               capture_output=True, text=True, check=False)  # fmt: skip

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("Sam owes Alex $6,847.21")  # + half of 50.00
    assert net_cents(demo_copy) == {"alex": 684721, "sam": -684721}
    assert not list((demo_copy / "output").rglob(".*.tmp"))
    summary = openpyxl.load_workbook(demo_copy / "output/balance_data.xlsx")["Summary"]
    assert summary["A2"].value == "Sam owes Alex $6,847.21"
    balance = pq.read_table(demo_copy / "output/powerbi/rpt_balance.parquet").to_pylist()
    assert {row["member_id"]: str(row["net_amount"]) for row in balance} == {
        "alex": "6847.21", "sam": "-6847.21"}  # fmt: skip
