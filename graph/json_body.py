"""Request bodies decoded as JSON, where every undecodable body is one ``ValueError``.

``json.loads`` raises ``RecursionError``, not ``ValueError``, for nesting deeper than the
interpreter's stack (a body of 100,000 ``[``): uncaught, a client's malformed body became a 500
and a logged traceback. And it accepts ``"\\ud800"``, a lone UTF-16 surrogate, as a string: not
Unicode text, so it failed later, far from the request, wherever the string was encoded (SQLite
binding a username, argon2 hashing a password: 500s). Both front ends decode through here, so
both answer either with a 400 before any of the body is used.
"""

from __future__ import annotations

import json
import re
from typing import Any

# json decodes a \uD800-\uDFFF escape without its pair to this one code point.
_SURROGATE = re.compile("[\ud800-\udfff]")


class NotUnicodeError(ValueError):
    """A string in the body is not Unicode text; the message says so for the client."""


def loads(data: str | bytes) -> Any:
    try:
        value = json.loads(data)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply to decode") from exc
    _require_text(value)
    return value


def _require_text(value: Any) -> None:
    """Every string in the decoded value, keys included, is Unicode text.

    Iterative: the decoded value may nest as deep as the decoder allowed.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise NotUnicodeError(
                    "a string in the request body holds a lone UTF-16 surrogate "
                    "(a \\ud800-\\udfff escape without its pair): not Unicode text"
                )
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
