"""Worker processes for the CPU-bound per-batch work (tokenizing, shingling)."""

from __future__ import annotations

import multiprocessing
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
        forkserver.set_forkserver_preload(["dedupe.batch"])
        return forkserver
    return multiprocessing.get_context("spawn")


def workers_failed(exc: BaseException) -> DedupeError:
    """The error to raise when the worker pool breaks."""
    return DedupeError(
        f"worker processes failed ({type(exc).__name__}). When calling dedupe from a "
        'script, run it under `if __name__ == "__main__":` (worker processes import '
        "the main module), or set backend.workers to 1."
    )
