"""Worker processes never outlive a killed dedupe (Linux: the parent-death signal)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dedupe._workers import worker_context
from tests.conftest import REPO

_SCRIPT = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from dedupe._workers import worker_context

if __name__ == "__main__":
    with ProcessPoolExecutor(2, mp_context=worker_context()) as pool:
        list(pool.map(abs, range(8)))  # the forkserver and both workers are up
        print("ready", flush=True)
        time.sleep(600)
"""


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


LINUX_ONLY = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="parent-death signal is Linux"
)


@LINUX_ONLY
def test_forkserver_and_workers_die_when_dedupe_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "pool.py"
    script.write_text(_SCRIPT, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, cwd=REPO)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    helpers = _descendants(proc.pid)
    assert len(helpers) >= 3  # forkserver, two workers (and the resource tracker)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 20
    alive = helpers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = {pid for pid in alive if os.path.exists(f"/proc/{pid}") and not _zombie(pid)}
    assert not alive, f"still running after the parent was killed: {sorted(alive)}"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def _parent_death_signal() -> tuple[int, int]:
    """(parent-death signal, parent pid) of the calling process (runs in a worker)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    signal_number = ctypes.c_int(0)
    libc.prctl(2, ctypes.byref(signal_number), 0, 0, 0)  # PR_GET_PDEATHSIG
    return signal_number.value, os.getppid()


@LINUX_ONLY
def test_every_worker_is_tied_to_the_forkserver_before_its_first_task() -> None:
    # The tie is made right after the fork, so it holds for a worker that has not run a
    # task yet (a dedupe killed while a worker starts up used to leave that worker behind).
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import forkserver

    with ProcessPoolExecutor(2, mp_context=worker_context()) as pool:
        seen = set(pool.map(_parent_death_signal_after_a_pause, range(6)))
        server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert seen == {(int(signal.SIGKILL), server)}


def _parent_death_signal_after_a_pause(_: int) -> tuple[int, int]:
    time.sleep(0.2)  # so that both workers take tasks
    return _parent_death_signal()


@LINUX_ONLY
def test_a_process_whose_expected_parent_is_gone_exits_at_once() -> None:
    # die_with_parent(pid) when pid is no longer the parent (it died between the fork and
    # the call): the process must not carry on as an orphan.
    code = (
        "import os\n"
        "from dedupe._workers import die_with_parent\n"
        "die_with_parent(os.getppid() + 1_000_000)\n"
        "print('still running')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=REPO)
    assert done.returncode == 1
    assert done.stdout == b""
