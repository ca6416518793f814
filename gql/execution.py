"""Executing plain fields without the resolver machinery.

graphql-core resolves every field the same way: a Path, a ResolveInfo, the resolver
(Strawberry's wrapper around `getattr`), then the generic completion path. A page of 100
members runs that well over a thousand times for fields that are only an attribute read:
most of a list's cost. This execution context computes such fields inline while it walks
an object's fields:

- a plain leaf: a Strawberry field with no resolver, no extensions and no permission
  classes, no arguments, and a scalar or enum type: the attribute, coerced by its type;
- a relay `id` of a Node that keeps Strawberry's own `resolve_id` and `resolve_typename`:
  the global id of the parent type's name and the NodeID attribute, as Strawberry's
  `Node._id` and the ID scalar would write it.

Anything else, and any value that is not plainly valid (an exception, a null in a non-null
field, a value the type refuses), takes graphql-core's own path for that field, so errors
are reported exactly as before. With resolver middleware (a schema extension's `resolve`)
every field takes that path.
"""

from __future__ import annotations

import base64
from typing import Any

from graphql import GraphQLField, GraphQLLeafType, GraphQLObjectType, is_leaf_type, is_non_null_type
from graphql.execution.executor import gather_with_cancel
from graphql.pyutils import Path, Undefined
from strawberry import relay
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

_NOT_PLAIN = object()
# GraphQLField -> (read, leaf type, nullable) or _NOT_PLAIN; fields live as long as the schema.
_plans: dict[int, Any] = {}
# Strawberry's relay id resolver (Node._id), and the defaults a Node may override.
_NODE_ID_RESOLVER = relay.Node.__dict__["_id"].__func__
_DEFAULT_RESOLVE_ID = relay.Node.resolve_id.__func__  # type: ignore[attr-defined]
_DEFAULT_RESOLVE_TYPENAME = relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
_ID_ATTRS: dict[type, str | None] = {}


def _node_id_attr(cls: type) -> str | None:
    """The NodeID attribute of a Node class that resolves its id and type name as Strawberry
    does by default; None when it overrides either (its own resolver must run)."""
    if cls not in _ID_ATTRS:
        plain = (
            issubclass(cls, relay.Node)
            and getattr(cls.resolve_id, "__func__", None) is _DEFAULT_RESOLVE_ID
            and getattr(cls.resolve_typename, "__func__", None) is _DEFAULT_RESOLVE_TYPENAME
        )
        _ID_ATTRS[cls] = cls.resolve_id_attr() if plain else None  # type: ignore[attr-defined]
    return _ID_ATTRS[cls]


def _global_id(type_name: str, source: Any) -> Any:
    attr = _node_id_attr(type(source))
    if attr is None:
        return None
    node_id = getattr(source, attr)
    if node_id is None:
        return None
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


def _plan(parent_type: GraphQLObjectType, field_def: GraphQLField) -> Any:
    key = id(field_def)
    plan = _plans.get(key)
    if plan is None:
        plan = _NOT_PLAIN
        field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        return_type = field_def.type
        inner = return_type.of_type if is_non_null_type(return_type) else return_type  # type: ignore[attr-defined]
        resolver = getattr(field, "base_resolver", None)
        if field is None or field_def.args or not is_leaf_type(inner) or field.extensions or field.permission_classes:
            pass
        elif getattr(field, "is_basic_field", False) and getattr(field_def.resolve, "_is_default", False):
            python_name, read = field.python_name, field.default_resolver
            plan = (lambda source: read(source, python_name), inner, not is_non_null_type(return_type))
        elif getattr(getattr(resolver, "wrapped_func", None), "__func__", None) is _NODE_ID_RESOLVER:
            type_name = parent_type.name
            plan = (lambda source: _global_id(type_name, source), None, False)
        _plans[key] = plan
    return plan


class PlainLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        fields = parent_type.fields
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                field_def = fields.get(node.name.value)
                if field_def is not None and not node.arguments:
                    value = _plain_value(_plan(parent_type, field_def), source_value)
                    if value is not _NOT_PLAIN:
                        results[response_name] = value
                        continue
                result = self.execute_field(
                    parent_type, source_value, field_details_list, Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[f] for f in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        # As graphql-core's own execute_fields: the awaited fields replaced by their values.
        return self._gather(results, awaitable_fields)

    async def _gather(self, results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
        else:
            awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
        return results


def _plain_value(plan: Any, source: Any) -> Any:
    """The field's completed value, or _NOT_PLAIN when graphql-core must work it out."""
    if plan is _NOT_PLAIN:
        return _NOT_PLAIN
    read, leaf_type, nullable = plan
    try:
        value = read(source)
        if value is None:
            return None if nullable else _NOT_PLAIN
        if leaf_type is None:  # a relay id, already written
            return value
        coerced = _coerce(leaf_type, value)
    except Exception:  # whatever went wrong, the full path reports it properly
        return _NOT_PLAIN
    return _NOT_PLAIN if coerced is None or coerced is Undefined else coerced


def _coerce(leaf_type: GraphQLLeafType, value: Any) -> Any:
    return leaf_type.coerce_output_value(value)  # type: ignore[attr-defined]
