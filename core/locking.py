"""One writer per workspace: a second `balance run` waits for nobody, it says who holds it."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from contextlib import contextmanager

from core.clock import utc_now
from core.workspace import Workspace, make_private_dir


class WorkspaceBusy(RuntimeError):
    pass


@contextmanager
def workspace_lock(workspace: Workspace):
    """An exclusive lock on logs/.balance.lock; the kernel releases it if we are killed."""
    make_private_dir(workspace.lock_file.parent)
    descriptor = os.open(workspace.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 200, 0).decode(errors="replace").strip()
            raise WorkspaceBusy(
                f"another balance command is working in this workspace ({holder or 'unknown'}); "
                "wait for it to finish"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(
            descriptor, f"pid {os.getpid()} since {utc_now():%Y-%m-%d %H:%M:%S} UTC".encode(), 0
        )
        yield
    finally:
        os.close(descriptor)


@contextmanager
def workspace_temporary_files(workspace: Workspace):
    """Send the temporary files of a command that holds the lock to logs/tmp/, and remove them.

    xlsxwriter writes each part of a workbook to a temporary file before zipping them, in the
    system's temporary folder unless told otherwise: often a small RAM disk, shared with other
    users, and never cleaned when the command is killed. Under the workspace they are on its
    disk and private, and since the lock keeps every other command out, whatever logs/tmp/ holds
    when a command starts was left by one that was killed: it goes.
    """
    folder = workspace.temporary
    shutil.rmtree(folder, ignore_errors=True)
    make_private_dir(folder)
    previous = tempfile.tempdir
    tempfile.tempdir = str(folder)  # read by every tempfile call that names no folder
    try:
        yield folder
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(folder, ignore_errors=True)
