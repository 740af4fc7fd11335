"""Navigation between the pages of a long list: which page links a ``<nav>`` shows.

Real links (``?page=N``) that work without JavaScript, in the pattern of GOV.UK's
pagination component: the first and the last page, the current one and its
neighbours, and a gap ("…") for the pages in between, so the navigation stays
one short line however long the list grows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import format_decimal


@dataclass(frozen=True)
class PageLink:
    number: int
    label: str  # the number in the page's language
    url: str
    current: bool


@dataclass(frozen=True)
class Pagination:
    number: int  # the current page, from 1
    pages: int
    links: tuple[PageLink | None, ...]  # None: a gap, pages left out
    previous_url: str | None  # None on the first page
    next_url: str | None  # None on the last page

    @property
    def label(self) -> str:
        return format_decimal(self.number)

    @property
    def pages_label(self) -> str:
        return format_decimal(self.pages)


def page_window(current: int, pages: int) -> list[int | None]:
    """The page numbers to link, ``None`` where pages are left out: the first, the last,
    the current page and its neighbours. A gap of a single page shows that page instead."""
    shown = sorted({1, pages, *range(max(1, current - 1), min(pages, current + 1) + 1)})
    window: list[int | None] = []
    previous = 0
    for number in shown:
        if number - previous == 2:
            window.append(number - 1)
        elif number - previous > 2:
            window.append(None)
        window.append(number)
        previous = number
    return window


def pagination(number: int, pages: int, url: Callable[[int], str]) -> Pagination:
    """The navigation for page ``number`` of ``pages``; ``url(n)`` is page ``n``'s address."""
    links = tuple(
        None if n is None else PageLink(n, format_decimal(n), url(n), n == number)
        for n in page_window(number, pages)
    )
    return Pagination(
        number=number,
        pages=pages,
        links=links,
        previous_url=url(number - 1) if number > 1 else None,
        next_url=url(number + 1) if number < pages else None,
    )
