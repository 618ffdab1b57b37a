"""Request bodies decoded as JSON, where every undecodable body is one ``ValueError``.

``json.loads`` raises ``RecursionError``, not ``ValueError``, for nesting deeper than the
interpreter's stack (a body of 100,000 ``[``): uncaught, a client's malformed body became a 500
and a logged traceback. Both front ends decode through here, so both answer it with a 400.
"""

from __future__ import annotations

import json
from typing import Any


def loads(data: str | bytes) -> Any:
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply to decode") from exc
