"""A worker's bounded cache of users' ranked recommendation lists, keyed by what they depend on.

A user's ranking changes only when the model or the inputs the ranker reads change: their
ratings, their watchlist (saved movies leave the list) and the genre filter. So the key is the
model's generation in this worker, the genre and the user's version of those inputs, which the
store's triggers change with every write to them (``data.schema.user_versions``; every user
without ratings or saved movies shares the cold-start entry): see
``recommendations.ranking_key``. A new rating, an unsaved movie or a model switch gives a new
key, so a stale list is never served, in any worker, and no invalidation crosses workers: an
entry nobody asks for again just ages out.

Bounded by entries, least recently used first out. An entry holds the ranked ids as an int64
array of at most ``RECOMMENDATION_DEPTH`` (500) ids, 4 KB, plus about 300 bytes of key and
bookkeeping: the default 4,096 entries cost at most about 18 MB per worker.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

import numpy as np

DEFAULT_ENTRIES = 4096


def read_only(ranked: np.ndarray) -> np.ndarray:
    """A read-only int64 copy of ``ranked`` (the caller's array stays its own), as the cache
    hands out."""
    value = np.array(ranked, dtype=np.int64)
    value.flags.writeable = False
    return value


class RankingCache:
    """Least-recently-used ranked lists, at most ``entries`` of them (0 turns caching off).

    Thread-safe: a worker's requests run in many threads. Values are read-only arrays, so a
    caller can slice one without a copy and without a lock.
    """

    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        if entries < 0:
            raise ValueError(f"a cache holds 0 or more entries, got {entries}")
        self.entries = entries
        self._lists: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._lists)

    def get(self, key: Hashable) -> np.ndarray | None:
        with self._lock:
            found = self._lists.get(key)
            if found is not None:
                self._lists.move_to_end(key)
            return found

    def put(self, key: Hashable, ranked: np.ndarray) -> np.ndarray:
        """Keep ``ranked`` under ``key`` (evicting the least recently used past the bound) and
        return it as the read-only array the cache holds."""
        value = read_only(ranked)
        if self.entries == 0:
            return value
        with self._lock:
            self._lists[key] = value
            self._lists.move_to_end(key)
            while len(self._lists) > self.entries:
                self._lists.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._lists.clear()
