"""Which page links the navigation of a long list shows."""

from __future__ import annotations

import pytest

from app.web.pagination import page_window


@pytest.mark.parametrize(
    ("current", "pages", "window"),
    [
        (1, 1, [1]),
        (1, 2, [1, 2]),
        (2, 3, [1, 2, 3]),
        (1, 5, [1, 2, None, 5]),
        (3, 5, [1, 2, 3, 4, 5]),  # a gap of one page shows that page
        (4, 9, [1, 2, 3, 4, 5, None, 9]),
        (7, 42, [1, None, 6, 7, 8, None, 42]),
        (42, 42, [1, None, 41, 42]),
    ],
)
def test_first_last_current_and_neighbours_with_gaps(
    current: int, pages: int, window: list[int | None]
) -> None:
    assert page_window(current, pages) == window
