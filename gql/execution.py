"""Executing plain fields without the resolver machinery.

graphql-core resolves every field the same way: a Path, a ResolveInfo, the resolver
(Strawberry's wrapper around `getattr`), then the generic completion path. A page of 100
members runs that well over a thousand times for fields that are only an attribute read:
most of a list's cost. This execution context computes such fields inline while it walks
an object's fields. A field is planned once (per schema field) as one of:

- a plain leaf: a Strawberry field with no resolver, no extensions and no permission
  classes, no arguments, and a scalar or enum type: the attribute, coerced by its type;
  a list of such scalars likewise, item by item;
- a relay `id` of a Node that keeps Strawberry's own `resolve_id` and `resolve_typename`:
  the global id of the parent type's name and the NodeID attribute, as Strawberry's
  `Node._id` and the ID scalar would write it;
- a plain object or list of objects (an attribute as above, of an object type, not an
  interface or union): the attribute, its sub-selection executed here on each object with
  the same paths, error handling and null propagation as graphql-core's own completion;
- a `prefetched` resolver: a field whose resolver returns an attribute the list that built
  the object filled in (e.g. a member's departments loaded with its page); while that
  attribute is None the resolver runs.
- `__typename` of an object type: its name.

Anything else, and any value that is not plainly valid (an exception, an awaitable, a null
in a non-null field, a value the type refuses, an object its type does not accept), takes
graphql-core's own path for that field, before anything of it has run, so errors are
reported exactly as before. With resolver middleware (a schema extension's `resolve`) every
field takes that path; so does a selection under @defer or @stream.
"""

from __future__ import annotations

import base64
import functools
import operator
from collections.abc import Awaitable, Callable
from types import CoroutineType, GeneratorType
from typing import Any, NamedTuple

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    is_enum_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.executor import gather_with_cancel
from graphql.pyutils import Path, Undefined
from strawberry import relay
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

_NOT_PLAIN = object()
_TYPENAME, _LEAF, _ID, _LEAF_LIST, _OBJECT, _OBJECT_LIST = range(6)
_PREFETCHED = "__chaingate_prefetched__"
# Strawberry's relay id resolver (Node._id), and the defaults a Node may override.
_NODE_ID_RESOLVER = relay.Node.__dict__["_id"].__func__
_DEFAULT_RESOLVE_ID = relay.Node.resolve_id.__func__  # type: ignore[attr-defined]
_DEFAULT_RESOLVE_TYPENAME = relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
_ID_ATTRS: dict[type, str | None] = {}
# Leaf types that write a value of exactly this Python type as it is.
_PASSTHROUGH: dict[Any, type] = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}
# Directives that only decide whether a field is there (collect_fields applied them already).
_INCLUSION = frozenset({"skip", "include"})


class _Plan(NamedTuple):
    kind: int
    read: Callable[[Any], Any]
    # _LEAF, _LEAF_LIST: the leaf type (None for a relay id, already written); objects: the object type.
    inner: Any
    nullable: bool  # the field's value may be null
    item_nullable: bool  # lists: an item may be null
    prefetched: bool  # a None value means "not there": the resolver runs
    # Leaves: the Python type whose values the leaf type writes unchanged (str for String), if any.
    passthrough: type | None = None
    # Enum leaves: (Python type, value) -> the name written, filled as values are met (an
    # enum's coercion depends on the value only, and its names are few).
    names: dict[tuple[type, Any], str] | None = None


_NOT_PLANNED = _Plan(-1, lambda _: None, None, False, False, False)
_TYPENAME_PLAN = _Plan(_TYPENAME, lambda _: None, None, False, False, False)
# GraphQLField -> its plan; fields live as long as the schema.
_plans: dict[int, _Plan] = {}


def prefetched(attribute: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Marks a resolver whose value is `self.<attribute>` when that is not None (filled in
    by whoever built the object, e.g. a page loading its rows' departments in one batch);
    otherwise the decorated resolver runs. The execution context reads such an attribute
    without calling the resolver; the wrapper below does the same when it is called.

    Input: the attribute's name (str). Output: a decorator for an instance resolver.
    """

    def decorate(resolver: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(resolver)
        def resolve(self: Any, *args: Any, **kwargs: Any) -> Any:
            value = getattr(self, attribute)
            return value if value is not None else resolver(self, *args, **kwargs)

        setattr(resolve, _PREFETCHED, attribute)
        return resolve

    return decorate


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


_PLAIN_CLASSES: dict[type, bool] = {}


def _plain_class(cls: type) -> bool:
    """Instances of `cls` are plain values: never awaitable, never an exception."""
    known = _PLAIN_CLASSES.get(cls)
    if known is None:
        known = _PLAIN_CLASSES[cls] = not (
            hasattr(cls, "__await__") or issubclass(cls, (CoroutineType, GeneratorType, BaseException))
        )
    return known


def _checks_type_plainly(object_type: GraphQLObjectType) -> bool:
    """The type has no is_type_of, or Strawberry's own (which ignores the resolve info)."""
    is_type_of = object_type.is_type_of
    return is_type_of is None or getattr(is_type_of, "__module__", None) == GraphQLCoreConverter.__module__


def _unwrap(type_: GraphQLOutputType) -> tuple[Any, bool]:
    """(the type inside a non-null wrapper, whether the type is nullable)."""
    if is_non_null_type(type_):
        return type_.of_type, False
    return type_, True


def _shape(parent_type: GraphQLObjectType, field_def: GraphQLField, read: Callable[[Any], Any], pre: bool) -> _Plan:
    """The plan of an attribute-valued field from its type: a leaf, a list of leaves, an
    object or a list of objects; anything else is not planned."""
    inner, nullable = _unwrap(field_def.type)
    if is_leaf_type(inner) and not pre:
        names: dict[tuple[type, Any], str] | None = {} if is_enum_type(inner) else None
        return _Plan(_LEAF, read, inner, nullable, False, False, _PASSTHROUGH.get(inner), names)
    if is_object_type(inner):
        plain = _checks_type_plainly(inner)
        return _Plan(_OBJECT, read, inner, nullable, False, pre) if plain else _NOT_PLANNED
    if is_list_type(inner):
        item, item_nullable = _unwrap(inner.of_type)
        if is_leaf_type(item) and not pre:
            return _Plan(_LEAF_LIST, read, item, nullable, item_nullable, False)
        if is_object_type(item) and _checks_type_plainly(item):
            return _Plan(_OBJECT_LIST, read, item, nullable, item_nullable, pre)
    return _NOT_PLANNED


def _plan(parent_type: GraphQLObjectType, field_def: GraphQLField) -> _Plan:
    key = id(field_def)
    plan = _plans.get(key)
    if plan is None:
        plan = _NOT_PLANNED
        field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        resolver = getattr(field, "base_resolver", None)
        wrapped = getattr(resolver, "wrapped_func", None)
        if field is None or field_def.args or field.extensions or field.permission_classes:
            pass
        elif getattr(field, "is_basic_field", False) and getattr(field_def.resolve, "_is_default", False):
            python_name, read_attr = field.python_name, field.default_resolver
            read = (operator.attrgetter(python_name) if read_attr is getattr
                    else lambda source: read_attr(source, python_name))
            plan = _shape(parent_type, field_def, read, False)
        elif getattr(wrapped, _PREFETCHED, None) is not None:
            attribute = getattr(wrapped, _PREFETCHED)
            plan = _shape(parent_type, field_def, lambda source: getattr(source, attribute), True)
        elif getattr(wrapped, "__func__", None) is _NODE_ID_RESOLVER and is_non_null_type(field_def.type):
            type_name = parent_type.name
            plan = _Plan(_ID, lambda source: _global_id(type_name, source), None, False, False, False)
        _plans[key] = plan
    return plan


class PlainLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    # (parent type id, grouped field set id) -> (the grouped field set, its steps); per execution.
    _step_cache: dict[tuple[int, int], tuple[Any, list[tuple[Any, ...]]]]

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        manager = self.middleware_manager
        if position_context is not None or (manager is not None and manager.middlewares):
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, kind, plan, field_def, field_details_list in self._steps(parent_type, grouped_field_set):
                if kind == _LEAF:
                    # Inline for the commonest case: a value its type writes as it is (e.g. a str).
                    try:
                        value = plan.read(source_value)
                    except Exception:
                        value = _NOT_PLAIN
                    else:
                        if value is None:
                            value = None if plan.nullable else _NOT_PLAIN
                        elif type(value) is not plan.passthrough:
                            value = _plain_value(plan, source_value)
                elif kind == _TYPENAME:
                    value = parent_type.name
                elif kind >= _OBJECT:
                    value = self._plain_objects(plan, parent_type, field_def, source_value, path, response_name,
                                                field_details_list)
                    if value is not _NOT_PLAIN and is_awaitable(value):
                        awaitable_fields.append(response_name)
                else:
                    value = _plain_value(plan, source_value)
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

    def _steps(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[tuple[Any, ...]]:
        """(response name, plan kind, plan, field, field details) for each field of a
        collected selection set, worked out once per execution: graphql-core hands the same
        grouped field set for every object a list's sub-selection runs on."""
        try:
            cache = self._step_cache
        except AttributeError:
            cache = self._step_cache = {}
        key = (id(parent_type), id(grouped_field_set))
        hit = cache.get(key)
        if hit is not None:
            return hit[1]
        steps = []
        fields = parent_type.fields
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            name = node.name.value
            field_def = fields.get(name)
            plan = _NOT_PLANNED
            if field_def is not None and not node.arguments:
                plan = _plan(parent_type, field_def)
            elif field_def is None and name == "__typename":
                plan = _TYPENAME_PLAN
            steps.append((response_name, plan.kind, plan, field_def, field_details_list))
        # The grouped field set is kept with its steps so that its id is not reused meanwhile.
        cache[key] = (grouped_field_set, steps)
        return steps

    async def _gather(self, results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
        else:
            awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
        return results

    def _plain_objects(
        self,
        plan: _Plan,
        parent_type: GraphQLObjectType,
        field_def: GraphQLField,
        source: Any,
        path: Path | None,
        response_name: str,
        field_details_list: Any,
    ) -> Any:
        """An object or list-of-objects field completed as graphql-core's complete_value
        would (its sub-selection executed on each object, errors located and nulls
        propagated alike), or _NOT_PLAIN, before anything ran, when graphql-core must."""
        try:
            value = plan.read(source)
        except Exception:  # the full path reports it properly
            return _NOT_PLAIN
        if value is None:
            return None if plan.nullable and not plan.prefetched else _NOT_PLAIN
        object_type: GraphQLObjectType = plan.inner
        if plan.kind == _OBJECT:
            if not _acceptable(object_type, value):
                return _NOT_PLAIN
        elif not isinstance(value, list | tuple) or not all(
            _acceptable(object_type, item) if item is not None else plan.item_nullable for item in value
        ):
            return _NOT_PLAIN
        grouped, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if defer_usages or any(d.name.value not in _INCLUSION for d in field_details_list[0].node.directives or ()):
            return _NOT_PLAIN  # incremental delivery: graphql-core's own path
        return_type = field_def.type
        field_path = Path(path, response_name, parent_type.name)
        try:
            if plan.kind == _OBJECT:
                completed = self.execute_fields(object_type, value, field_path, grouped, None)
            else:
                completed = self._object_list(
                    object_type, field_def.type, value, field_path, grouped, field_details_list
                )
        except Exception as error:
            self.handle_field_error(error, return_type, field_details_list, field_path)
            return None
        if self.is_awaitable(completed):
            return self._settle(completed, return_type, field_details_list, field_path)
        return completed

    def _object_list(
        self,
        object_type: GraphQLObjectType,
        return_type: GraphQLOutputType,
        items: list[Any] | tuple[Any, ...],
        path: Path,
        grouped: Any,
        field_details_list: Any,
    ) -> Any:
        """graphql-core's complete_iterable_value over plain objects of one type."""
        list_type: GraphQLList[Any] = _unwrap(return_type)[0]
        item_type = list_type.of_type
        is_awaitable = self.is_awaitable
        execute_fields = self.execute_fields
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                if item is None:
                    completed.append(None)
                    continue
                item_path = Path(path, index, None)
                try:
                    result = execute_fields(object_type, item, item_path, grouped, None)
                except Exception as error:
                    self.handle_field_error(error, item_type, field_details_list, item_path)
                    result = None
                else:
                    if is_awaitable(result):
                        result = self._settle(result, item_type, field_details_list, item_path)
                        awaitable_indices.append(index)
                completed.append(result)
        except Exception:
            if awaitable_indices:
                self.settle_in_background([completed[i] for i in awaitable_indices])
            raise
        if not awaitable_indices:
            return completed
        return self._gather_list(completed, awaitable_indices)

    async def _gather_list(self, completed: list[Any], awaitable_indices: list[int]) -> list[Any]:
        if len(awaitable_indices) == 1:
            completed[awaitable_indices[0]] = await completed[awaitable_indices[0]]
        else:
            awaited = await gather_with_cancel(*(completed[i] for i in awaitable_indices))
            for index, value in zip(awaitable_indices, awaited, strict=True):
                completed[index] = value
        return completed

    async def _settle(
        self, completed: Awaitable[Any], return_type: GraphQLOutputType, field_details_list: Any, path: Path
    ) -> Any:
        """The awaited value, or its error located and handled for a field of `return_type`."""
        try:
            return await completed
        except Exception as error:
            self.handle_field_error(error, return_type, field_details_list, path)
            return None


def _acceptable(object_type: GraphQLObjectType, value: Any) -> bool:
    """A value graphql-core would complete as `object_type` without an error of its own."""
    if not _plain_class(type(value)):
        return False
    is_type_of = object_type.is_type_of
    return is_type_of is None or is_type_of(value, None) is True  # type: ignore[arg-type]


def _plain_value(plan: _Plan, source: Any) -> Any:
    """A leaf field's completed value, or _NOT_PLAIN when graphql-core must work it out."""
    if plan.kind < 0:
        return _NOT_PLAIN
    try:
        value = plan.read(source)
        if value is None:
            return None if plan.nullable else _NOT_PLAIN
        if plan.kind == _ID:  # a relay id, already written
            return value
        if plan.kind == _LEAF:
            if plan.names is None:
                return _coerce(plan.inner, value)
            key = (type(value), value)
            name = plan.names.get(key)
            if name is None:
                name = plan.names[key] = _coerce(plan.inner, value)
            return name
        if not isinstance(value, list | tuple):
            return _NOT_PLAIN
        if not plan.item_nullable and None in value:
            return _NOT_PLAIN
        leaf_type = plan.inner
        return [_coerce(leaf_type, item) if item is not None else None for item in value]
    except Exception:  # whatever went wrong, the full path reports it properly
        return _NOT_PLAIN


def _coerce(leaf_type: GraphQLLeafType, value: Any) -> Any:
    """The output value; raises when the type refuses it or the value is not plain (the
    caller then leaves the field to graphql-core, which reports it)."""
    if not _plain_class(type(value)):
        raise TypeError("not a plain value")
    coerced = leaf_type.coerce_output_value(value)
    if coerced is None or coerced is Undefined:
        raise TypeError("refused")
    return coerced
