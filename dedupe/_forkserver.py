"""Imported by the multiprocessing forkserver at its start (``worker_context``'s preload).

Its effects: the forkserver dies with the dedupe process that started it, and every worker it
forks dies with the forkserver, so a killed run leaves no process behind (the resource
tracker then exits on its own when its last client is gone).

Workers are tied right after the fork (``os.register_at_fork``), not in a pool initializer:
an initializer runs only once the worker has imported its way to the task loop, and a
dedupe killed in that window left the worker orphaned, blocked on the pool's queue for good
(seen under load in about one run in ten).
"""

import os

from dedupe._workers import die_with_parent

# If dedupe is already gone here, the server still exits: its end of the alive pipe is at EOF.
die_with_parent()

_server: int | None = os.getpid()


def _tie_child_to_server() -> None:
    global _server
    # Only the server's own children: a worker that forks (it does not, today) must not tie
    # its child to the server, or the check below would kill that child at once.
    parent, _server = _server, None
    if parent is not None:
        die_with_parent(parent)


os.register_at_fork(after_in_child=_tie_child_to_server)
