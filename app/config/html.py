"""Merchant HTML snippets: sanitized with nh3 against a small allow-list.

Labels are plain text and never go through here; only the keys typed
``LocalizedHtml`` (intro, success message, consent labels, FAQ answers) may
carry markup, and only this much of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Annotated, Any

import nh3
from pydantic import AfterValidator

from forms.text import LocalizedText, TextKind

ALLOWED_TAGS = {"a", "b", "br", "em", "i", "li", "ol", "p", "small", "strong", "ul"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"https", "mailto"}


def sanitize(html: str) -> str:
    """Keep the allowed tags; links get https/mailto only and open in a new tab."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )


class _Markup(HTMLParser):
    """Collects the tags and ``tag[attribute]`` names a snippet uses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.used: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.used.add(f"<{tag}>")
        self.used.update(f"{tag}[{name}]" for name, _ in attrs)
        for name, value in attrs:
            if name == "href" and value:
                self.used.add(f"{tag}[href={value.strip()}]")

    handle_startendtag = handle_starttag


def _markup(html: str) -> set[str]:
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser.used


def stripped_markup(html: str) -> list[str]:
    """What sanitizing removes from ``html`` (tags, attributes, links), for a warning."""
    removed = _markup(html) - _markup(sanitize(html))
    return sorted(item for item in removed if not item.startswith("a[target") and "rel" not in item)


def _sanitize_text(value: str | Mapping[str, str]) -> str | dict[str, str]:
    if isinstance(value, str):
        return sanitize(value)
    return {language: sanitize(text) for language, text in value.items()}


LocalizedHtml = Annotated[LocalizedText, AfterValidator(_sanitize_text), TextKind.HTML]


def html_texts(value: Any) -> list[str]:
    """The raw strings of a text value, one per language."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for text in value.values() if isinstance(text, str)]
    return []
