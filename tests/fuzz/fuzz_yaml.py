"""Coverage-guided fuzzing of the YAML reader and the merchant loader (atheris).

    .venv/bin/python tests/fuzz/fuzz_yaml.py -max_total_time=60 [CORPUS_DIR]

``make fuzz`` runs it time-boxed. Without a corpus folder a temporary one is
seeded with the demo merchant files. A crash leaves ``crash-<sha>`` with the
input in the working folder; run the script with that file to replay it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script

with atheris.instrument_imports(include=["app", "yaml", "forms"]):
    from tests.helpers.fuzz import check_yaml, seeds


def main() -> None:
    args = sys.argv
    if not any(not arg.startswith("-") for arg in args[1:]):
        corpus = Path(tempfile.mkdtemp(prefix="portico-yaml-corpus-"))
        for index, seed in enumerate(seeds()):
            (corpus / f"seed-{index}.yaml").write_bytes(seed)
        args = [*args, str(corpus)]
    atheris.Setup(args, check_yaml)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
