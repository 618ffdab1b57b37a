"""Cursor pagination shared by every connection: opaque cursors over result offsets.

Offsets rather than keysets keep every sort order (title, rating, time) pageable with one rule;
a rating added between two pages can shift a row, which a browsing user will not notice.
"""

from __future__ import annotations

import base64
import binascii

import strawberry

from graph.errors import bad_user_input

_PREFIX = "offset:"
# Offsets past a billion are forged; bigger ones would overflow the database's OFFSET.
_MAX_DIGITS = 9


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode()


def decode_cursor(after: str | None) -> int:
    """The offset just past ``after``; 0 without a cursor. Bad cursors are a BAD_USER_INPUT."""
    if after is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(after.encode("ascii")).decode("ascii")
        digits = text.removeprefix(_PREFIX)
        if text.startswith(_PREFIX) and digits.isdigit() and len(digits) <= _MAX_DIGITS:
            return int(digits) + 1
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise bad_user_input("invalid cursor: pass an endCursor or edge cursor from a previous page")


def page_info(offset: int, count: int, total: int) -> PageInfo:
    last = offset + count - 1
    return PageInfo(
        has_next_page=offset + count < total, end_cursor=encode_cursor(last) if count else None
    )
