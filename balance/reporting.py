"""What a command tells the user, and the run log it leaves in logs/ (one file per command)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from core.clock import utc_now
from core.masking import mask_digit_runs
from core.workspace import PRIVATE_FILE_MODE, Workspace, make_private_dir

LOGS_KEPT = 30


class Reporter:
    """Prints messages (at the chosen verbosity) and writes every one of them to the run log.

    Calling it prints a normal message; `detail(text, level)` prints only with -v (1) or -vv
    (2); `debug(text)` only with --debug; `warn_once(text)` prints a warning once per command,
    through `write_warning` (standard error, so that `status --json` stays parseable). The log
    file gets everything, with UTC times.
    """

    def __init__(self, write: Callable[[str], None] | None = None, verbosity: int = 0,
                 debug: bool = False, log: TextIO | None = None,
                 write_warning: Callable[[str], None] | None = None):  # fmt: skip
        self.write = write
        self.verbosity = verbosity
        self.show_debug = debug
        self.log = log
        self.write_warning = write_warning or write
        self._warned: set[str] = set()

    def _record(self, text: str) -> None:
        if self.log is not None:
            stamp = utc_now().strftime("%H:%M:%S.%f")[:-3]
            for line in text.splitlines() or [""]:
                self.log.write(f"{stamp} {mask_digit_runs(line)}\n")
            self.log.flush()

    def __call__(self, text: str) -> None:
        self._record(text)
        if self.write:
            self.write(text)

    def detail(self, text: str, level: int = 1) -> None:
        self._record(text)
        if self.write and self.verbosity >= level:
            self.write(text)

    def debug(self, text: str) -> None:
        self._record(f"debug: {text}")
        if self.write and self.show_debug:
            self.write(f"debug: {text}")

    def warn_once(self, text: str) -> None:
        """A fault met by several steps of one command (an unreadable logs/last_run.json is
        read by each of them) is said once."""
        if text in self._warned:
            return
        self._warned.add(text)
        self._record(f"warning: {text}")
        if self.write_warning:
            self.write_warning(f"warning: {text}")


def open_run_log(workspace: Workspace, command: str) -> TextIO:
    """logs/<command>-<UTC time>.log, readable by the user alone; older logs beyond 30 go."""
    folder = make_private_dir(workspace.logs)
    stamp = utc_now().strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{command}-{stamp}.log"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    _rotate(folder)
    return os.fdopen(descriptor, "w", encoding="utf-8")


def _rotate(folder: Path) -> None:
    logs = sorted(folder.glob("*-*.log"), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in logs[LOGS_KEPT:]:
        old.unlink(missing_ok=True)
