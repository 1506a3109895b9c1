"""`make fuzz`: run each fuzz target under atheris for a bounded time.

Usage: python tests/fuzz/run.py TARGET SECONDS CORPUS_DIR. A crash leaves ``crash-*`` in the
current folder; copy it to tests/fuzz/regressions/ (named ``<target>-<what>.bin``) with the
fix, so ``make test`` replays it from then on.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["dedupe"]):
    from targets import TARGETS  # type: ignore[import-not-found]


def main() -> None:
    name, seconds, corpus = sys.argv[1], sys.argv[2], sys.argv[3]
    target = TARGETS[name]
    atheris.Setup(
        [sys.argv[0], corpus, f"-max_total_time={seconds}", "-rss_limit_mb=12288", "-timeout=30"],
        target,
    )
    atheris.Fuzz()


if __name__ == "__main__":
    main()
