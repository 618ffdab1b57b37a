"""JSON logs: one object a line from every logger (ours, uvicorn's, libraries'), with request ids.

Each line holds ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, ``request_id``
(null outside a request) and, when there is one, ``exception`` (the traceback as text). A log
shipper then needs no parsing rules, and every line of one request can be found by its id.

A record whose message is a ``Fields`` (the access log's) adds its fields to the line: the access
line is one flat object, not JSON inside a string. ``str()`` of a ``Fields`` is its JSON, so
under a plain formatter (pytest's caplog) it still reads as one JSON object.

Hand-written rather than a library: the format is these six keys, and this is all it takes.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from graph.request_id import current_request_id


class Fields(dict[str, Any]):
    """A structured log message: its fields go to the top level of the JSON line."""

    def __init__(self, summary: str, **fields: Any) -> None:
        super().__init__(fields)
        self.summary = summary

    def __str__(self) -> str:
        return json.dumps(self)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = record.msg if isinstance(record.msg, Fields) else None
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage() if fields is None else fields.summary,
            "request_id": current_request_id(),
            **(fields or {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def log_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server: JSON on stderr, access lines on stdout.

    Access lines keep their own stream, as before, so they can be routed or dropped apart from
    the rest. Loggers that exist already (imported modules') stay enabled.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "movierec.access": {"handlers": ["stdout"], "propagate": False},
            # uvicorn's loggers carry handlers of their own by default; here they pass to root.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True},
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }
