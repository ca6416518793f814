"""Parsed and validated documents, kept across requests.

Clients send the same few query texts over and over; parsing and validating one costs a few
milliseconds each time, more than the rest of a small request. Documents are cached by their
text, and a document's validation by (text, validation rules): the rules differ by viewer
(NoIntrospectionRule is added for whoever may not introspect), so a document validated for
an admin is never taken as valid for anyone else. Only clean outcomes are kept: a document
that failed to parse or validate is worked through again, so its errors are fresh objects
the error policy may annotate per request. graphql-core treats documents as read-only.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, Generic, TypeVar

from graphql import DocumentNode

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Distinct texts kept per process; a client sends a handful, a server sees a few hundred.
MAX_DOCUMENTS = 512


class LRU(Generic[K, V]):
    """A bounded map that forgets the least recently used entry (one event loop: no locks)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


parsed: LRU[str, DocumentNode] = LRU(MAX_DOCUMENTS)
validated: LRU[tuple[str, tuple[Any, ...]], bool] = LRU(MAX_DOCUMENTS)
# Requests that passed the checks that depend on the variables too (query limits, strings),
# by (text, variables, limits): a client paging through a list sends the same few again.
checked: LRU[tuple[Any, ...], bool] = LRU(4 * MAX_DOCUMENTS)
# Variables kept in a `checked` key: scalars only, strings no longer than this.
_MAX_KEPT_STRING = 256



def checks_key(query: str, variables: dict[str, Any], limits: Hashable) -> tuple[Any, ...] | None:
    """The `checked` key of a request, or None when its variables are not all plain scalars
    (lists and inputs, long strings: worked through each time, never kept)."""
    items = []
    for name, value in variables.items():
        if isinstance(value, str):
            if len(value) > _MAX_KEPT_STRING:
                return None
        elif value is not None and not isinstance(value, bool | int | float):
            return None
        # The type is part of the key: 1 and True are equal but measured differently.
        items.append((name, type(value), value))
    return query, tuple(sorted(items, key=lambda item: item[0])), limits


def validation_key(query: str, rules: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    return query, tuple(rules)
