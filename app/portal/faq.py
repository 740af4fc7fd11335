"""The merchant's FAQ in one language, and a keyword search over it.

Search needs no JavaScript and no index: a merchant has a handful of entries.
Every word is reduced to its stem by the Snowball stemmer of the page's
language (``kündigen``, ``Kündigung`` and ``kündige`` are all ``kundig``;
``säga`` and ``Säg`` are ``säg``), accents and case left aside. A query word
matches an entry when it is a word of the entry's question or answer or the
start of one (``abrechnungszeit`` finds "Abrechnungszeitraums"). Entries are
ranked by how many of the query's words they match; when none matches any,
the search says so and shows every question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

import snowballstemmer

from app.config.models import MerchantConfig
from forms import localize

MAX_QUERY_LENGTH = 200
WORD = re.compile(r"\w+")
SNOWBALL = {"en": "english", "de": "german", "sv": "swedish"}


@dataclass(frozen=True)
class FaqEntry:
    question: str  # plain text, escaped when shown
    answer: str  # HTML sanitized by the config loader (nh3)
    words: frozenset[str]  # what search compares: stems, folded


@dataclass(frozen=True)
class FaqSearch:
    """What a search shows: the matches, best first, or every entry when none matched."""

    entries: tuple[FaqEntry, ...]
    matched: bool


def fold(text: str) -> str:
    """``text`` without accents, case-folded: ``Kündigung`` → ``kundigung``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def stemmer(language: str) -> Callable[[str], str]:
    """The Snowball stemmer of ``language`` (a new one: stemmers keep state while they
    work, so threads must not share one); words stay whole in other languages."""
    if language not in SNOWBALL:
        return str
    return snowballstemmer.stemmer(SNOWBALL[language]).stemWord


def words(text: str, language: str) -> frozenset[str]:
    """The stems of ``text``'s words in ``language``, folded: ``Kündigung`` → ``kundig``."""
    stem = stemmer(language)
    return frozenset(fold(stem(word)) for word in WORD.findall(text.casefold()))


class _TextOf(HTMLParser):
    """The text of an HTML snippet, with a space where each tag was."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(html: str) -> str:
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def faq_entries(config: MerchantConfig, language: str) -> tuple[FaqEntry, ...]:
    """The FAQ in ``language`` (falling back to the merchant's default language)."""
    default = config.default_language
    entries = []
    for item in config.portal.faq:
        question = localize(item.question, language, default)
        answer = localize(item.answer, language, default)
        text = f"{question} {text_of(answer)}"
        entries.append(FaqEntry(question, answer, words(text, language)))
    return tuple(entries)


def search(entries: tuple[FaqEntry, ...], query: str, language: str) -> FaqSearch:
    """The entries that match words of ``query``, most matched words first (the
    merchant's order among equals); every entry for an empty or unmatched query."""
    wanted = words(query[:MAX_QUERY_LENGTH], language)

    def score(entry: FaqEntry) -> int:
        return sum(1 for w in wanted if any(word.startswith(w) for word in entry.words))

    scored = sorted(((score(entry), entry) for entry in entries), key=lambda pair: -pair[0])
    ranked = tuple(entry for points, entry in scored if points)  # sorted() is stable
    if not ranked:
        return FaqSearch(entries, matched=not wanted)
    return FaqSearch(ranked, matched=True)
