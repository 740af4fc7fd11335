"""Every built-in string is translated into German and Swedish.

The test extracts the strings from the code and templates as `make
translations` does, so a new string without a translation fails here even
when nobody updated the catalogs.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.helpers.app import ROOT

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "lazy_gettext": None}
METHODS = [
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.txt", "jinja2"),
]


def extracted() -> set[str]:
    messages = set()
    for folder in ("app", "forms", "themes"):
        for _, _, message, _, _ in extract_from_dir(
            ROOT / folder, METHODS, keywords=KEYWORDS, options_map={"**/templates/**": {}}
        ):
            messages.add(message[0] if isinstance(message, tuple) else message)
    return messages


def catalog(language: str):
    path = ROOT / "locales" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


@pytest.mark.parametrize("language", ["de", "sv"])
def test_every_built_in_string_is_translated(language: str) -> None:
    translations = catalog(language)
    missing = []
    for message in sorted(extracted()):
        entry = translations.get(message)
        strings = entry.string if entry else None
        if isinstance(strings, tuple | list):
            strings = all(strings) and strings
        if entry is None or not strings or entry.fuzzy:
            missing.append(message)
    assert not missing, f"{len(missing)} strings lack a {language} translation: {missing[:10]}"


@pytest.mark.parametrize("language", ["de", "sv", "en"])
def test_compiled_catalog_matches_its_source(language: str) -> None:
    source = catalog(language)
    mo = ROOT / "locales" / language / "LC_MESSAGES" / "messages.mo"
    assert mo.exists(), "run `make translations`"
    with mo.open("rb") as handle:
        compiled = read_mo(handle)
    assert {_key(m.id) for m in compiled if m.id and m.string} >= {
        _key(m.id) for m in source if m.id and m.string and not m.fuzzy
    }, "the .mo file is stale: run `make translations`"


def _key(message_id: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    """A plural id is a tuple in a .po catalog and a list in a .mo one."""
    return message_id if isinstance(message_id, str) else tuple(message_id)


def test_placeholders_survive_translation() -> None:
    for language in ("de", "sv"):
        for message in catalog(language):
            if not message.id or not message.string:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = _placeholders(ids[-1])
            for string in strings:
                assert _placeholders(string) <= wanted | _placeholders(ids[0]), (
                    language,
                    message.id,
                )


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)[sd]", text))
