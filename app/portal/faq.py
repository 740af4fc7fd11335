"""The merchant's FAQ in one language, and a keyword search over it.

Search needs no JavaScript and no index: a merchant has a handful of entries.
A query matches an entry when every word of it starts a word of the entry's
question or answer, ignoring case and accents, so ``kundig`` finds
"Wie kündige ich?" and ``cancel`` finds "cancellation".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser

from app.config.models import MerchantConfig
from forms import localize

MAX_QUERY_LENGTH = 200
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class FaqEntry:
    question: str  # plain text, escaped when shown
    answer: str  # HTML sanitized by the config loader (nh3)
    words: tuple[str, ...]  # what search compares, folded


def fold(text: str) -> str:
    """``text`` without accents, case-folded: ``Kündigung`` → ``kundigung``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> tuple[str, ...]:
    return tuple(WORD.findall(fold(text)))


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
        entries.append(FaqEntry(question, answer, words(f"{question} {text_of(answer)}")))
    return tuple(entries)


def search(entries: tuple[FaqEntry, ...], query: str) -> tuple[FaqEntry, ...]:
    """The entries matching every word of ``query``; all of them for an empty query."""
    wanted = words(query[:MAX_QUERY_LENGTH])
    return tuple(
        entry
        for entry in entries
        if all(any(word.startswith(w) for word in entry.words) for w in wanted)
    )
