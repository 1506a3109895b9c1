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
        # dedupe._forkserver first: the server process itself dies with its parent.
        forkserver.set_forkserver_preload(["dedupe._forkserver", "dedupe.batch"])
        return forkserver
    return multiprocessing.get_context("spawn")


_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Have Linux SIGKILL this process when the one that started it dies (elsewhere: no-op).

    Worker pools pass it as ``initializer``, and the forkserver runs it at start
    (``dedupe._forkserver``). Without it, a ``dedupe`` killed with SIGKILL (or by the OOM
    killer) left its forkserver, workers and resource tracker running for good, and a
    supervisor that restarts the job piled them up. Linux ties this to the parent *thread*:
    create pools from a thread that outlives them (the CLI uses the main thread).
    """
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def workers_failed(exc: BaseException) -> DedupeError:
    """The error to raise when the worker pool breaks."""
    return DedupeError(
        f"worker processes failed ({type(exc).__name__}). When calling dedupe from a "
        'script, run it under `if __name__ == "__main__":` (worker processes import '
        "the main module), or set backend.workers to 1."
    )
