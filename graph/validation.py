"""Parsing and validation: once per query text, in a worker thread, the cheap limits first.

Both are synchronous and grow with the document: lexing a 1 MB comment takes 80 ms, and
graphql-core's OverlappingFieldsCanBeMergedRule compares every pair of fields answering at one place
(190 ``movie(id: …)`` fields took 175 ms of CPU). On GraphQL's event loop (``graph.side_loop``),
that is time every other query of the worker waits; in a thread, the loop keeps answering (the GIL
changes hands every few milliseconds). So a query text not seen before is parsed, checked by
``graph.limits.crowding`` (which refuses the shapes that make that rule slow before it runs), then
validated, and the outcome is kept for the next request with the same text: clients send a handful
of fixed queries. A text of up to ``ON_LOOP_CHARS`` is handled on the loop, where it takes a few
milliseconds at most (a few hundred fields, at most 10 per place), less than the two trips to a
thread would add to its request on a loaded machine; a longer one in a thread, each step.

Texts longer than ``CACHED_TEXT_CHARS`` are not kept: every query the web app and GraphiQL send
is a few kilobytes, and a stream of distinct 1 MB documents would otherwise pin up to
``QUERY_CACHE_SIZE`` MB in each worker.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from graph.errors import ErrorCode
from graph.limits import crowding
from graph.threads import Run

T = TypeVar("T")
# Distinct query texts kept parsed and validated; clients send a handful of fixed queries.
QUERY_CACHE_SIZE = 256
CACHED_TEXT_CHARS = 20_000
# Every query of the web app is shorter; GraphiQL's introspection query is longer.
ON_LOOP_CHARS = 1_000


@dataclass(slots=True)
class Checked:
    """A parsed query text and, once validated, its validation errors (empty: valid)."""

    document: DocumentNode
    errors: list[GraphQLError] | None = None


class DocumentCache:
    """The most recently used query texts, parsed and validated.

    Used by both event loops' threads (a cheap request seen before runs on the main loop:
    ``graph.router``), so each look-up and store holds a lock: a look-up's move to the end must
    not meet another thread's eviction of the same text.
    """

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[str, Checked] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> Checked | None:
        with self._lock:
            entry = self._entries.get(text)
            if entry is not None:
                self._entries.move_to_end(text)
            return entry

    def put(self, text: str, entry: Checked) -> None:
        if len(text) > CACHED_TEXT_CHARS:
            return
        with self._lock:
            self._entries[text] = entry
            self._entries.move_to_end(text)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


@dataclass(frozen=True)
class FieldLimits:
    """``graph.limits.crowding``'s two numbers."""

    max_same_name: int
    max_fields: int


def check(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: Sequence[type[ASTValidationRule]],
    limits: FieldLimits,
) -> list[GraphQLError]:
    """The document's validation errors; a crowded document gets only that one, found first."""
    crowded = crowding(document, limits.max_same_name, limits.max_fields)
    if crowded is not None:
        return [
            GraphQLError(crowded, extensions={"code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value})
        ]
    return validate_document(schema, document, tuple(rules))


class CheckedDocuments(SchemaExtension):
    """Strawberry's parse and validate steps, through one cache, off the event loop.

    Replaces Strawberry's ``ParserCache`` and ``ValidationCache``, which run on the loop, and
    its ``MaxTokensLimiter`` and ``AddValidationRules``, whose per-request hooks only set what
    is fixed here (each extension's hooks are wrapped and entered anew for every request). The
    cache is the schema's (``build_schema`` makes one per schema), so its validation rules are
    the same for every text it holds.
    """

    def __init__(
        self,
        cache: DocumentCache,
        limits: FieldLimits,
        rules: Sequence[type[ASTValidationRule]],
        max_tokens: int,
    ) -> None:
        super().__init__()
        self.cache = cache
        self.limits = limits
        self.rules = tuple(rules)
        self.max_tokens = max_tokens

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        text = context.query or ""
        entry = self.cache.get(text)
        if entry is None:
            run = context.context.run
            document = await _off_loop_if_long(
                run, text, lambda: parse(text, max_tokens=self.max_tokens)
            )
            entry = Checked(document)
            self.cache.put(text, entry)
        context.graphql_document = entry.document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            text = context.query or ""
            entry = self.cache.get(text)
            if entry is None or entry.document is not document:
                entry = Checked(document)
            if entry.errors is None:
                schema = context.schema._schema
                rules = (*context.validation_rules, *self.rules)
                entry.errors = await _off_loop_if_long(
                    context.context.run, text, lambda: check(schema, document, rules, self.limits)
                )
                self.cache.put(text, entry)
            context.pre_execution_errors = entry.errors
        yield


async def _off_loop_if_long(run: Run, text: str, work: Callable[[], T]) -> T:
    """``work`` for a query text, through the request's ``run`` (``graph.threads``: abandoned
    past the request's deadline) when the text is long."""
    if len(text) <= ON_LOOP_CHARS:
        return work()
    result: T = await run(work)
    return result
