"""The atheris fuzzers, time-boxed, when ``PORTICO_FUZZ_SECONDS`` asks for them.

CI sets it (``.ci/run``), so every CI run spends that long per harness under
coverage guidance; a developer runs the same with ``make fuzz``. A crash
leaves its input in ``instance/fuzz/`` and fails the test with the fuzzer's
report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("PORTICO_FUZZ_SECONDS", "0") or 0)
HARNESSES = {
    "yaml": ["tests/fuzz/fuzz_yaml.py", "-dict=tests/fuzz/yaml.dict"],
    "form": ["tests/fuzz/fuzz_form.py"],
}


@pytest.mark.slow
@pytest.mark.xdist_group("load")  # one load at a time (pytest -n)
@pytest.mark.skipif(not SECONDS, reason="PORTICO_FUZZ_SECONDS not set: `make fuzz` runs these")
@pytest.mark.parametrize("harness", sorted(HARNESSES))
def test_the_fuzzer_finds_no_crash(harness: str) -> None:
    pytest.importorskip("atheris", reason="atheris installs on Linux x86_64 only")
    artifacts = ROOT / "instance" / "fuzz"
    artifacts.mkdir(parents=True, exist_ok=True)
    script, *extra = HARNESSES[harness]
    run = subprocess.run(
        [
            sys.executable,
            script,
            *extra,
            f"-max_total_time={SECONDS}",
            "-timeout=10",
            "-rss_limit_mb=2048",
            f"-artifact_prefix={artifacts}/",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SECONDS + 300,
    )
    assert run.returncode == 0, run.stderr[-4000:]
