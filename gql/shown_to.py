"""strawberry-django's permission extension: a field that is empty for everyone but …

`ShownOnlyTo(rule)` declares on the field who it is for: `rule(viewer, key(root))`, a pure
predicate of permissions/, decides before the resolver runs; for anyone else the field is
empty ([] for a list, null for a nullable field), never an error, as if there were nothing
to show (SPEC §2). The resolver then holds no visibility rule of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension, SyncExtensionResolver
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.field import StrawberryField

from gql.context import Info
from permissions.viewer import Viewer


def _pk(root: Any) -> int:
    return int(root.pk)


class ShownOnlyTo(FieldExtension):
    """The field resolves only where `rule(viewer, key(root))` holds (`key` defaults to the
    node's pk); elsewhere it answers its empty value without running the resolver."""

    def __init__(self, rule: Callable[[Viewer, int], bool], key: Callable[[Any], int] = _pk) -> None:
        self.rule = rule
        self.key = key
        self.empty: Callable[[], Any] = lambda: None

    def apply(self, field: StrawberryField) -> None:
        kind = field.type
        if isinstance(kind, StrawberryOptional):
            self.empty = lambda: None
        elif isinstance(kind, StrawberryList):
            self.empty = list
        else:
            raise TypeError(f"{field.python_name}: only a list or a nullable field can be empty for some viewers")

    def _shown(self, source: Any, info: Info) -> bool:
        return self.rule(info.context.viewer, self.key(source))

    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        return next_(source, info, **kwargs) if self._shown(source, info) else self.empty()

    async def resolve_async(self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        if not self._shown(source, info):
            return self.empty()
        return await next_(source, info, **kwargs)
