"""Worker processes for the CPU-bound per-batch work (tokenizing, shingling)."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from multiprocessing.context import BaseContext

from dedupe.errors import DedupeError


def worker_context() -> BaseContext:
    """The multiprocessing context for worker pools.

    forkserver where it exists: workers start from a clean process (no inherited threads,
    such as a filter's reader thread or a database connection); platforms without it
    (Windows) spawn.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        forkserver = multiprocessing.get_context("forkserver")
        # dedupe._forkserver first: the server dies with dedupe, and its workers with it.
        forkserver.set_forkserver_preload(["dedupe._forkserver", "dedupe.batch"])
        return forkserver
    return multiprocessing.get_context("spawn")


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """Have Linux SIGKILL this process when its parent dies (elsewhere: no-op).

    ``parent`` is the pid this process must still be a child of; if that process is already
    gone, this one exits at once. Without it the current parent is taken, which cannot tell
    a parent that died a moment ago (this process now belongs to init or a subreaper).

    The forkserver runs it at start and ties each worker it forks (``dedupe._forkserver``).
    Without it, a ``dedupe`` killed with SIGKILL (or by the OOM killer) left its forkserver,
    workers and resource tracker running for good, and a supervisor that restarts the job
    piled them up. Linux ties this to the parent *thread*: create pools from a thread that
    outlives them (the CLI uses the main thread).
    """
    if not sys.platform.startswith("linux"):
        return
    expected = os.getppid() if parent is None else parent
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != expected:  # the parent died before the request took effect
        os._exit(1)


def workers_failed(exc: BaseException) -> DedupeError:
    """The error to raise when the worker pool breaks."""
    return DedupeError(
        f"worker processes failed ({type(exc).__name__}). When calling dedupe from a "
        'script, run it under `if __name__ == "__main__":` (worker processes import '
        "the main module), or set backend.workers to 1."
    )
