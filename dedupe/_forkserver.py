"""Imported by the multiprocessing forkserver at its start (``worker_context``'s preload).

Its one effect: the forkserver dies with the dedupe process that started it, so a killed run
leaves no server behind (its workers follow: see ``dedupe._workers.die_with_parent``).
"""

from dedupe._workers import die_with_parent

die_with_parent()
