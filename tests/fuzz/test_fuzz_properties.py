"""The fuzzers' properties, run briefly in every `make test` so the harnesses never rot.

`make fuzz` runs the same checks under atheris' coverage guidance, time-boxed.
"""

from __future__ import annotations

import random
from urllib.parse import urlencode

import pytest

from tests.helpers.fuzz import MERCHANTS, check_order_post, check_yaml, seeds
from tests.helpers.orders import VALID


def mutations(seed: bytes, count: int, rng: random.Random) -> list[bytes]:
    """Byte flips, cuts and splices of ``seed``, as a fuzzer's first steps make them."""
    mutated = []
    for _ in range(count):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(data))
            choice = rng.random()
            if choice < 0.4:
                data[at] = rng.randrange(256)
            elif choice < 0.7:
                del data[at : at + rng.randint(1, 40)]
            else:
                data[at:at] = rng.choice([b"&a ", b"*a", b"[", b"{", b": ", b"\n- ", b"\x00"])
        mutated.append(bytes(data))
    return mutated


@pytest.mark.parametrize("index", range(len(MERCHANTS)), ids=MERCHANTS)
def test_yaml_property_holds_for_seeds_and_mutations(index: int) -> None:
    seed = seeds()[index]
    for data in [seed, b"", b"\xff\xfe", *mutations(seed, 12, random.Random(index))]:
        check_yaml(data)


@pytest.mark.parametrize("slug", MERCHANTS)
def test_order_post_property_holds_for_seeds_and_mutations(slug: str) -> None:
    seed = urlencode({**VALID[slug], "email": f"fuzz.{slug}@example.com"}).encode()
    check_order_post(slug, seed, "application/x-www-form-urlencoded")
    for data in mutations(seed, 12, random.Random(slug)):
        check_order_post(slug, data, "application/x-www-form-urlencoded")
    check_order_post(slug, seed, "multipart/form-data; boundary=x")
