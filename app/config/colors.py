"""WCAG 2 contrast, so merchants hear about unreadable colours at `portico check`."""

from __future__ import annotations


def _channels(color: str) -> tuple[float, float, float]:
    digits = color.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    red, green, blue = (int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return red, green, blue


def relative_luminance(color: str) -> float:
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = map(linear, _channels(color))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable_on(background: str) -> str:
    """Black or white, whichever reads better on ``background``."""
    white = contrast_ratio("#ffffff", background)
    black = contrast_ratio("#000000", background)
    return "#ffffff" if white >= black else "#000000"


def normalized(color: str) -> str:
    """``#ABC`` → ``#aabbcc``: one spelling for CSS."""
    digits = color.lstrip("#").lower()
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return f"#{digits}"
