"""Replay every saved fuzz input (tests/fuzz/regressions/<target>-<what>.bin): none may raise.

Inputs land here when `make fuzz` finds a crash (with its fix), or as seeds we wrote for
shapes worth keeping: outlets full of regex metacharacters, members with no words.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "fuzz"
spec = importlib.util.spec_from_file_location("fuzz_targets", HERE / "targets.py")
assert spec is not None and spec.loader is not None
targets = importlib.util.module_from_spec(spec)
spec.loader.exec_module(targets)

INPUTS = sorted((HERE / "regressions").glob("*.bin"))


def test_there_are_saved_inputs_for_every_target() -> None:
    assert {p.name.split("-", 1)[0] for p in INPUTS} == set(targets.TARGETS)


@pytest.mark.hostile
@pytest.mark.parametrize("path", INPUTS, ids=[p.stem for p in INPUTS])
def test_saved_fuzz_input_does_not_crash(path: Path) -> None:
    targets.TARGETS[path.name.split("-", 1)[0]](path.read_bytes())


@pytest.mark.hostile
@pytest.mark.parametrize("suffix", range(len(targets.SUFFIXES)))
def test_hostile_corpus_files_through_every_reader(suffix: int) -> None:
    corpus = Path(__file__).resolve().parent / "hostile" / "corpus"
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        targets.read_one(bytes([suffix]) + path.read_bytes()[:200_000])
