"""Executing plain leaf fields without the resolver machinery.

graphql-core resolves every field the same way: build a ResolveInfo, call the resolver
(Strawberry's wrapper around `getattr`), then complete the value through the generic
completion path. A page of 100 members runs that about a thousand times for fields that
are only an attribute read: most of a list's cost. This execution context reads such
fields directly: a Strawberry field with no resolver, no extensions and no permission
classes, no arguments, and a scalar or enum type. Anything else, and any value that is
not plainly valid (an exception, a null in a non-null field, a value the type refuses),
takes graphql-core's own path, so errors are reported exactly as before.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLField, GraphQLLeafType, GraphQLObjectType, is_leaf_type, is_non_null_type
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

_NOT_PLAIN = object()
# GraphQLField -> (read, leaf type, nullable) or _NOT_PLAIN; fields live as long as the schema.
_plans: dict[int, Any] = {}


def _plan(field_def: GraphQLField) -> Any:
    plan = _plans.get(id(field_def))
    if plan is None:
        plan = _NOT_PLAIN
        field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        return_type = field_def.type
        inner = return_type.of_type if is_non_null_type(return_type) else return_type  # type: ignore[attr-defined]
        if (
            field is not None
            and getattr(field, "is_basic_field", False)
            and not field_def.args
            and is_leaf_type(inner)
            and getattr(field_def.resolve, "_is_default", False)
        ):
            python_name, read = field.python_name, field.default_resolver
            plan = (lambda source: read(source, python_name), inner, not is_non_null_type(return_type))
        _plans[id(field_def)] = plan
    return plan


class PlainLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        field_def = parent_type.fields.get(node.name.value)
        plan = _plan(field_def) if field_def is not None and not node.arguments else _NOT_PLAIN
        # Resolver middleware (a schema extension's `resolve`) must see every field: then no shortcut.
        manager = self.middleware_manager
        if plan is not _NOT_PLAIN and (manager is None or not manager.middlewares):
            read, leaf_type, nullable = plan
            try:
                value = read(source)
                if value is None:
                    if nullable:
                        return None
                else:
                    coerced = _coerce(leaf_type, value)
                    if coerced is not None and coerced is not Undefined:
                        return coerced
            except Exception:  # whatever went wrong, the full path reports it properly
                pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)


def _coerce(leaf_type: GraphQLLeafType, value: Any) -> Any:
    return leaf_type.coerce_output_value(value)  # type: ignore[attr-defined]
