"""One writer per workspace: a second `balance run` waits for nobody, it says who holds it."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager

from balance.workspace import Workspace, make_private_dir
from ingest.warehouse import utc_now


class WorkspaceBusy(RuntimeError):
    pass


@contextmanager
def workspace_lock(workspace: Workspace):
    """An exclusive lock on warehouse/.balance.lock; the kernel releases it if we are killed."""
    path = make_private_dir(workspace.warehouse.parent) / ".balance.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
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
