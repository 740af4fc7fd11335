"""Hostile input: any YAML and any order-form post ends in a clean error or a success.

Property-based (hypothesis) over the YAML reader, the merchant loader, the
order page built from a mutated merchant, and order-form posts; plus the
classic attacks by name (alias bombs, deep nesting, huge files, NUL bytes,
non-UTF-8, homoglyph emails, 10 000-character fields). The atheris harnesses
in ``tests/fuzz`` run the same properties with coverage guidance (``make fuzz``).
"""

from __future__ import annotations

import copy
import os
import shutil
import string
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.config.loader import LoadedMerchant, load_merchant
from app.config.registry import installed_themes
from app.config.yamlsource import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, YamlError, parse_yaml
from app.settings import THEMES_DIR
from tests.helpers.app import DEMO_CONFIG, DEMO_MERCHANTS, make_app
from tests.helpers.orders import VALID, stored

SCALE = 10 if os.environ.get("PORTICO_SOAK_SECONDS") else 1  # `make soak` tries ten times more
THEMES = installed_themes(THEMES_DIR)
CLEAN_ANSWERS = {303, 400, 403, 410, 413, 422, 429}
DEMO_YAML = {
    slug: (DEMO_CONFIG / "merchants" / f"{slug}.yaml").read_bytes() for slug in DEMO_MERCHANTS
}
DEMO_DATA = {slug: yaml.safe_load(raw) for slug, raw in DEMO_YAML.items()}


def examples(count: int, seconds: float = 2.0, **more: Any) -> settings:
    return settings(
        max_examples=count * SCALE,
        deadline=timedelta(seconds=seconds),
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
        **more,
    )


# --- hostile values -----------------------------------------------------------------------

HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n\r\nX-Injected: 1",
    "\u202egnp.exe",  # right-to-left override
    "\ufeff",
    "\uffff",
    "\u0430dmin@example.com",  # Cyrillic a
    "admin@ex\u0430mple.com",  # Cyrillic a in the domain
    "ａｄｍｉｎ＠ｅｘａｍｐｌｅ．ｃｏｍ",  # fullwidth
    "admin@example.com\x00@evil.example",
    '"><img src=x onerror=alert(1)>',
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "{{ 7*7 }}{% raw %}",
    "%(name)s %s {0}",
    "../../../../etc/passwd",
    "NaN",
    "-0",
    "1e308",
    "9" * 400,
    "２０２６-０２-３０",
    "DE 000 000 000",
    "x" * 10_000,
    "é" * 10_000,
    "😀" * 10_000,
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=40),
    st.builds(lambda char, size: char * size, st.characters(), st.sampled_from([255, 10_000])),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(string.ascii_lowercase + "_", max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


# --- the YAML reader ------------------------------------------------------------------------


def parses_or_refuses(source: str | bytes) -> None:
    """The property: a document, or a YamlError with a message and a position."""
    try:
        document = parse_yaml(source)
    except YamlError as error:
        problem = error.problem
        assert problem.severity == "error" and problem.message
        assert problem.position is not None and problem.position.line >= 1
        return
    assert isinstance(
        document.data, dict | list | str | int | Decimal | bool | date | datetime | type(None)
    )


@examples(200)
@given(st.binary(max_size=512))
def test_any_bytes_parse_or_are_refused(raw: bytes) -> None:
    parses_or_refuses(raw)


@examples(200)
@given(st.text(max_size=512))
def test_any_text_parses_or_is_refused(text: str) -> None:
    parses_or_refuses(text)


YAML_TOKENS = [
    "a", "b", "0", "1.5", "'", '"', "\\", "-", "- ", ":", ": ", "?", "? ", ",", "[", "]", "{",
    "}", "&a ", "*a", "&b ", "*b", "!", "!!", "!!str ", "!!python/object:os.system ", "!!set ",
    "!!binary ", "!<tag:x> ", "|", ">", "|-", "#", "%YAML 1.1\n", "%TAG ! !x\n", "---", "...",
    "<<: *a", "\n", "\n  ", "\n    ", "\t", " ", "\x00", "\x07", "\ud800", "\\ud800", "\\x00",
    "é", "~", "null", "yes", "no", ".inf", ".nan", "0x1F", "0o7", "1_000", "2026-13-45",
    "12:30:00",
]  # fmt: skip


@examples(400)
@given(st.lists(st.sampled_from(YAML_TOKENS), max_size=60).map("".join))
def test_yaml_token_soup_parses_or_is_refused(text: str) -> None:
    parses_or_refuses(text)
    parses_or_refuses(text.encode("utf-8", "surrogatepass"))


@examples(150)
@given(json_values)
def test_any_structure_dumped_as_yaml_reads_back(value: Any) -> None:
    source = yaml.safe_dump(value, allow_unicode=True)
    assume(len(source.encode()) <= MAX_FILE_BYTES)
    parses_or_refuses(source)


def alias_bomb(levels: int, width: int = 9) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (alias_bomb(9), f"the document expands to more than {MAX_NODES} values"),
        (alias_bomb(30, width=2), f"the document expands to more than {MAX_NODES} values"),
        ("&a [*a]", f"nesting deeper than {MAX_DEPTH} levels"),
        ("[" * 10_000 + "]" * 10_000, f"nesting deeper than {MAX_DEPTH} levels"),
        ("{a: " * 10_000 + "1" + "}" * 10_000, f"nesting deeper than {MAX_DEPTH} levels"),
        ("".join("  " * i + "-\n" for i in range(200)), f"nesting deeper than {MAX_DEPTH} levels"),
        ("[" + "1," * 60_000 + "1]", f"the document expands to more than {MAX_NODES} values"),
        ("a: " + "x" * MAX_FILE_BYTES, "the file is larger than 512 KiB"),
        (b"a: " + b"x" * MAX_FILE_BYTES, "the file is larger than 512 KiB"),
        ("merchant:\n  name: A\x00B\n", "the file contains a NUL byte"),
        (b"name: caf\xe9\n", "the file is not valid UTF-8"),
        ("name: x".encode("utf-16"), "the file is not valid UTF-8"),
        ("a: b\nc: \x07\n", "the file contains the unprintable character U+0007"),
        ('a: "\\ud800"\n', "a text contains a lone surrogate escape"),
        ("a: !!python/object/apply:os.system [ls]\n", "unsupported YAML tag"),
        ("a: !!python/object:x {b: 1}\n", "unsupported YAML tag"),
        ("a: !!set {x}\n", "unsupported YAML tag 'tag:yaml.org,2002:set'"),
        ("a: !!binary aGk=\n", "unsupported YAML tag 'tag:yaml.org,2002:binary'"),
        ("a: 1\n---\nb: 2\n", "YAML syntax"),
    ],
    ids=lambda value: repr(value)[:40] if isinstance(value, str | bytes) else None,
)
def test_classic_attacks_are_refused_quickly_with_a_position(
    source: str | bytes, message: str
) -> None:
    started = time.monotonic()
    with pytest.raises(YamlError) as refused:
        parse_yaml(source)
    assert time.monotonic() - started < 30  # seconds on a busy machine; no hang
    assert message in refused.value.problem.message
    assert refused.value.problem.position.line >= 1


def test_a_full_sized_honest_file_is_read_in_reasonable_time() -> None:
    source = "".join(f"key{i}: value {i}\n" for i in range(10_000))
    started = time.monotonic()
    assert len(parse_yaml(source).data) == 10_000
    assert time.monotonic() - started < 30


# --- the merchant loader and the page it builds ----------------------------------------------


@pytest.fixture(scope="module")
def merchants_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config folder with the demo merchants' assets, for mutated merchant files."""
    config = tmp_path_factory.mktemp("config")
    for slug in DEMO_MERCHANTS:
        shutil.copytree(DEMO_CONFIG / "merchants" / slug, config / "merchants" / slug)
    return config / "merchants"


def write(path: Path, content: bytes) -> Path:
    """Replace the file (a new inode, so the registry never mistakes it for the old one)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)
    return path


def key_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths += key_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += key_paths(item, (*prefix, index))
    return paths


@st.composite
def mutated_merchants(draw: st.DrawFn) -> tuple[str, bytes]:
    """A demo merchant with one to three values replaced by hostile ones."""
    slug = draw(st.sampled_from(DEMO_MERCHANTS))
    data = copy.deepcopy(DEMO_DATA[slug])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(key_paths(data)))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = draw(json_values)
    return slug, yaml.safe_dump(data, allow_unicode=True).encode()


def assert_clean(loaded: LoadedMerchant) -> None:
    assert (loaded.config is None) == bool(loaded.errors)
    for line in loaded.report():  # every problem placed: file:line:column
        assert line.split(":")[1].isdigit(), line


@examples(50, seconds=5)
@given(mutated_merchants())
def test_mutated_merchant_files_load_or_report_problems(
    merchants_dir: Path, merchant: tuple[str, bytes]
) -> None:
    slug, content = merchant
    assert_clean(load_merchant(write(merchants_dir / f"{slug}.yaml", content), THEMES))


@examples(60, seconds=5)
@given(
    st.sampled_from(DEMO_MERCHANTS),
    st.integers(0, 10_000),
    st.binary(min_size=1, max_size=16),
    st.booleans(),
)
def test_merchant_files_with_bytes_damaged_load_or_report_problems(
    merchants_dir: Path, slug: str, offset: int, junk: bytes, overwrite: bool
) -> None:
    raw = DEMO_YAML[slug]
    at = offset % len(raw)
    damaged = raw[:at] + junk + raw[at + (len(junk) if overwrite else 0) :]
    assert_clean(load_merchant(write(merchants_dir / f"{slug}.yaml", damaged), THEMES))


@pytest.mark.parametrize(
    ("logo", "message"),
    [
        ("a\x00b.svg", "is not a usable file path: embedded null byte"),
        ("x" * 300 + ".svg", "is not a usable file path: File name too long"),
        ("\x80" * 300, "is not a usable file path: File name too long"),
        ("../../../etc/passwd", "points outside the merchants folder"),
    ],
)
def test_hostile_asset_paths_are_problems_not_crashes(
    merchants_dir: Path, logo: str, message: str
) -> None:
    """Found by `make soak`: a 300-byte logo name made `portico check` raise OSError."""
    data = copy.deepcopy(DEMO_DATA["acme"])
    data["branding"]["logo"] = logo
    content = yaml.safe_dump(data, allow_unicode=True).encode()
    loaded = load_merchant(write(merchants_dir / "acme.yaml", content), THEMES)
    assert loaded.config is None
    assert any(message in problem.message for problem in loaded.errors), loaded.report()


@pytest.fixture(scope="module")
def mutable_app(merchants_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return make_app(
        tmp_path_factory.mktemp("instance"),
        merchants_dir.parent,
        PORTICO_SIGNUP_RATE_LIMIT="1000000 per minute",
    )


@examples(30, seconds=5)
@given(mutated_merchants())
def test_a_mutated_merchant_that_passes_check_renders_and_signs_up(
    mutable_app: Flask, merchants_dir: Path, merchant: tuple[str, bytes]
) -> None:
    """What `portico check` accepts must never fail at request time."""
    slug, content = merchant
    write(merchants_dir / f"{slug}.yaml", content)
    loaded = mutable_app.extensions["portico"].merchants.get(slug)  # what the pages use
    assert_clean(loaded)
    client = mutable_app.test_client()
    page = client.get(f"/{slug}/order")
    if loaded.config is None:
        assert page.status_code == 503
        return
    assert page.status_code in {200, 410}, page.get_data(as_text=True)[-600:]
    data = {**VALID[slug], "form_token": mutable_app.extensions["portico"].form_tokens.issue(slug)}
    response = client.post(f"/{slug}/order", data=data)
    assert response.status_code in CLEAN_ANSWERS
    if response.status_code == 303 and "/order/complete/" in response.headers["Location"]:
        assert client.get(response.headers["Location"]).status_code == 200


# --- order-form posts -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def post_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return make_app(
        tmp_path_factory.mktemp("instance"), PORTICO_SIGNUP_RATE_LIMIT="1000000 per minute"
    )


def post_and_check(app: Flask, slug: str, **request: Any) -> int:
    """Post; the answer is clean and a customer is stored exactly when it is a success."""
    before = len(stored(app, slug, "customers"))
    response = app.test_client().post(f"/{slug}/order", **request)
    html = response.get_data(as_text=True)
    assert response.status_code in CLEAN_ANSWERS, html[-800:]
    assert "Traceback" not in html
    created = len(stored(app, slug, "customers")) - before
    assert created == (1 if response.status_code == 303 else 0)
    return response.status_code


@st.composite
def order_posts(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A valid post of a demo merchant with fields changed, added or left out."""
    slug = draw(st.sampled_from(DEMO_MERCHANTS))
    names = sorted(VALID[slug])
    data: dict[str, Any] = dict(VALID[slug])
    for name in draw(st.sets(st.sampled_from(names), max_size=3)):
        del data[name]
    changes = st.dictionaries(
        st.one_of(st.sampled_from(names), st.text(max_size=12)), hostile_text, max_size=4
    )
    data.update(draw(changes))
    return slug, data


# Up to four 10 000-character values in one post are the point of this test; Hypothesis
# warns that their repr (kept only for reporting a failure) is large.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@examples(80, seconds=5)
@given(order_posts())
def test_any_order_post_is_answered_cleanly(
    post_app: Flask, post: tuple[str, dict[str, Any]]
) -> None:
    slug, data = post
    token = post_app.extensions["portico"].form_tokens.issue(slug)
    post_and_check(post_app, slug, data={**data, "form_token": token})


@examples(80, seconds=5)
@given(st.sampled_from(DEMO_MERCHANTS), st.binary(max_size=600), st.booleans())
def test_any_raw_body_is_answered_cleanly(
    post_app: Flask, slug: str, body: bytes, multipart: bool
) -> None:
    token = post_app.extensions["portico"].form_tokens.issue(slug).encode()
    content_type = (
        "multipart/form-data; boundary=xyz" if multipart else "application/x-www-form-urlencoded"
    )
    post_and_check(post_app, slug, data=body + b"&form_token=" + token, content_type=content_type)


@pytest.mark.parametrize(
    "body",
    [
        b"email=%ff%fe%fd&plan=%C0%AF&name=%E0%80%80",  # invalid UTF-8 percent-encodings
        b"email=%&name=%%%zz&terms=%",
        b"email=a%00b%40example.com&name=%00",
        b"&&&===&=&",
        b"a" * 70_000,  # over the 64 KiB limit: 413
    ],
)
def test_broken_encodings_are_answered_cleanly(post_app: Flask, body: bytes) -> None:
    token = post_app.extensions["portico"].form_tokens.issue("stromma").encode()
    status = post_and_check(
        post_app,
        "stromma",
        data=body + b"&plan=premium&terms=y&form_token=" + token,
        content_type="application/x-www-form-urlencoded",
    )
    assert status in {400, 413, 422}


@pytest.mark.parametrize("field", sorted(VALID["thistle"]))
def test_10000_characters_in_any_field_are_refused_or_kept_whole(
    post_app: Flask, field: str
) -> None:
    token = post_app.extensions["portico"].form_tokens.issue("thistle")
    long = "Ω" * 10_000
    status = post_and_check(
        post_app, "thistle", data={**VALID["thistle"], field: long, "form_token": token}
    )
    if status == 303:  # a checkbox is ticked by any value; nothing is ever cut short
        for customer in stored(post_app, "thistle", "customers"):
            assert all(
                value in (long, True) or "Ω" not in str(value)
                for value in customer["fields"].values()
            )
    else:
        assert status == 422


def test_homoglyph_emails_are_separate_customers(post_app: Flask) -> None:
    addresses = ["admin@example.com", "\u0430dmin@example.com", "ＡＤＭＩＮ@example.com"]
    answers = []
    before = len(stored(post_app, "stromma", "customers"))
    for address in addresses:
        token = post_app.extensions["portico"].form_tokens.issue("stromma")
        data = {**VALID["stromma"], "email": address, "form_token": token}
        answers.append(post_and_check(post_app, "stromma", data=data))
    keys = [c["email_key"] for c in stored(post_app, "stromma", "customers")[before:]]
    assert answers[0] == 303 and "admin@example.com" in keys
    # A look-alike is another mailbox: never merged into the real one's key.
    assert len(keys) == len(set(keys))


def test_a_10000_character_field_name_and_400_fields_are_answered_cleanly(
    post_app: Flask,
) -> None:
    token = post_app.extensions["portico"].form_tokens.issue("acme")
    assert post_and_check(post_app, "acme", data={"x" * 10_000: "1", "form_token": token}) == 400
    many = {f"f{i}": "1" for i in range(1_000)}
    assert post_and_check(post_app, "acme", data={**many, "form_token": token}) in {400, 413}


@pytest.mark.parametrize("field", ["company", "email", "homepage"])
def test_a_nul_character_is_refused_before_anything_is_stored(post_app: Flask, field: str) -> None:
    """PostgreSQL cannot store NUL in text: it must never reach a store."""
    token = post_app.extensions["portico"].form_tokens.issue("acme")
    data = {**VALID["acme"], "form_token": token, field: "Ex\x00ample"}
    before = len(stored(post_app, "acme", "customers"))
    response = post_app.test_client().post("/acme/order?lang=en", data=data)
    assert response.status_code == 400
    assert "characters that cannot be stored" in response.get_data(as_text=True)
    assert len(stored(post_app, "acme", "customers")) == before
    assert post_app.test_client().get("/acme/order?company=a%00b").status_code == 400
