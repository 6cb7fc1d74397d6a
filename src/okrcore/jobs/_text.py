"""One-line messages: control characters in names and values are escaped, never printed."""

from __future__ import annotations

__all__ = ["one_line"]


def one_line(text: object) -> str:
    """``str(text)`` on one line, with its control characters escaped.

    Each character that is not printable (a newline, a carriage return, a tab, other control
    characters) is written as its Python escape (a newline as backslash-n), as ``repr``
    writes it; every other character, accented letters included, stays as it is.
    """
    value = str(text)
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)
