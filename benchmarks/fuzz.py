"""The full run of the HTTP fuzzer (`tests/unit/test_fuzz.py`): many more examples than `make test` runs, with a
fresh random seed each time, so every `make bench` explores new requests. Its row is the count of examples and
whether any answer was a 5xx."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._common import Row

EXAMPLES = 5_000
ROOT = Path(__file__).resolve().parent.parent


def run_rows(repeat: int = 15) -> list[Row]:
    environment = dict(os.environ, JINGBAO_FUZZ_EXAMPLES=str(EXAMPLES), JINGBAO_FUZZ_RANDOM="1")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/test_fuzz.py"],
                          cwd=ROOT, env=environment, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - started
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    if done.returncode:
        print(done.stdout[-4000:], file=sys.stderr)
    return [Row(f"fuzz · {EXAMPLES:,} callback requests (+ pages, API), random seed: {last}", f"{seconds:.0f} s", "",
                "0 × 5xx", done.returncode == 0)]
