"""The YAML reader refuses what could hurt the server, with a position."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.config.yamlsource import MAX_FILE_BYTES, YamlError, parse_yaml

BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: [*e, *e, *e, *e, *e, *e, *e, *e, *e]
"""


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (BOMB, "the document expands to more than 50000 values"),
        (
            "a:\n" + "".join("  " * i + "- \n" for i in range(1, 40)),
            "nesting deeper than 24 levels",
        ),
        (b"name: caf\xe9\n", "the file is not valid UTF-8"),
        ("name: a\x00b\n", "the file contains a NUL byte"),
        ("x: " + "y" * MAX_FILE_BYTES, "the file is larger than 512 KiB"),
        (
            "a: !!python/object:os.system ls\n",
            "unsupported YAML tag 'tag:yaml.org,2002:python/object:os.system'",
        ),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", "merge keys ('<<') are not supported"),
        ("a: 1\na: 2\n", "duplicate key 'a' (first defined at line 1)"),
    ],
)
def test_refused(source: str | bytes, expected: str) -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml(source)
    assert expected in caught.value.problem.message


def test_yaml_1_2_booleans_and_exact_decimals() -> None:
    document = parse_yaml("languages: [no, sv]\nflag: yes\nok: true\nprice: 9.99\n")
    assert document.data == {
        "languages": ["no", "sv"],
        "flag": "yes",
        "ok": True,
        "price": Decimal("9.99"),
    }


def test_positions_are_one_based_for_keys_and_values() -> None:
    document = parse_yaml("merchant:\n  name: Shop\n")
    assert document.source.keys[("merchant", "name")] == (2, 3)
    assert document.source.values[("merchant", "name")] == (2, 9)
