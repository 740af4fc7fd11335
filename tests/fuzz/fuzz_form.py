"""Coverage-guided fuzzing of order-form posts through the whole Flask app (atheris).

    .venv/bin/python tests/fuzz/fuzz_form.py -max_total_time=60 [CORPUS_DIR]

The fuzzer's bytes choose a demo merchant and an encoding, and then either are
the body of the post or fill the page's own fields (a valid form token is
appended, so posts reach the form engine and the sign-up). Every answer must be clean (never a 500) and a customer is
stored exactly when the answer is a success.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script

with atheris.instrument_imports(include=["app", "forms", "wtforms", "werkzeug.formparser"]):
    from tests.helpers.fuzz import MERCHANTS, check_order_post
    from tests.helpers.orders import VALID

CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x")


def one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    slug = MERCHANTS[provider.ConsumeIntInRange(0, len(MERCHANTS) - 1)]
    content_type = CONTENT_TYPES[provider.ConsumeIntInRange(0, 9) // 9]  # mostly urlencoded
    if provider.ConsumeBool():
        # The page's own fields with fuzzed values: these reach validation and the sign-up.
        fields = dict(VALID[slug])
        names = sorted(fields)
        for _ in range(provider.ConsumeIntInRange(0, 6)):
            name = names[provider.ConsumeIntInRange(0, len(names) - 1)]
            fields[name] = provider.ConsumeUnicodeNoSurrogates(provider.ConsumeIntInRange(0, 400))
        body = urlencode(fields).encode()
    else:
        body = provider.ConsumeBytes(provider.remaining_bytes())
    check_order_post(slug, body, content_type)


def main() -> None:
    logging.getLogger("app.outbox.mailer").setLevel(
        logging.WARNING
    )  # a line per mail drowns the fuzzer
    args = sys.argv
    if not any(not arg.startswith("-") for arg in args[1:]):
        corpus = Path(tempfile.mkdtemp(prefix="portico-form-corpus-"))
        for index, slug in enumerate(MERCHANTS):
            body = urlencode({**VALID[slug], "email": f"seed{index}@example.com"}).encode()
            (corpus / f"seed-{slug}").write_bytes(bytes([index, 0, 0]) + body)
        args = [*args, str(corpus)]
    atheris.Setup(args, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
