"""Every string a request hands the schema, checked once before anything runs: no NUL
character anywhere, and no string longer than its cap.

Why here, in one pass over the document and its variables, rather than in each resolver:
PostgreSQL refuses NUL in text (an internal error, not the client's), Tortoise refuses a
lookup value longer than its column (also an internal error), and an overlong search term
costs every query it reaches. One check that sees every argument, literal or variable,
nested inputs and lists included, keeps all of that out of the resolvers, and a new
argument is covered the day it is added.

Caps: `MAX_STRING` characters for any string; tighter caps for the arguments named in
`ARGUMENT_CAPS` (search terms, lookups by a column's value). Arguments whose flows check
their own length (profile fields, names) keep their specific userErrors (TOO_LONG,
INVALID_NAME, ...) under the global cap.

The refusal is BAD_REQUEST naming the argument (`extensions.argument`, e.g.
`Corp.searchMembers(query)` or `Mutation.createMember(input).name`), never echoing the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    SKIP,
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    is_list_type,
    is_non_null_type,
    visit,
)

from gql.protection.errors import BAD_REQUEST
from models import AuditEvent, ChainCorp

MAX_STRING = 10_000
# Search terms: nobody types more into a search box, each character costs the LIKE scans, and
# a term is compared exactly with the account column (64 characters; Tortoise refuses a
# longer lookup value).
MAX_SEARCH_TERM = 64


def _column(model: Any, name: str) -> int:
    return int(model._meta.fields_map[name].max_length)


# "Type.field.argument" (or "InputType.field" inside an input object) -> cap in characters.
# Lookups by a column's value are capped at the column's width (Tortoise refuses a longer
# lookup value outright). Join codes are not here: a code that cannot exist is NOT_FOUND
# (flows.invitations.plausible_code), the answer every unknown code gets.
ARGUMENT_CAPS: dict[str, int] = {
    "Corp.searchMembers.query": MAX_SEARCH_TERM,
    "Corp.searchMembers.position": MAX_SEARCH_TERM,
    "Corp.searchMembers.surnameInitial": MAX_SEARCH_TERM,
    "Corp.auditEvents.action": _column(AuditEvent, "action"),
    "Corp.auditEvents.targetType": _column(AuditEvent, "target_type"),
    "Query.chainCorpByCustomId.customCorpId": _column(ChainCorp, "custom_corp_id"),
}


class StringRefused(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


def _check(text: str, where: str, cap: int) -> None:
    if "\x00" in text:
        raise StringRefused(where, f"Argument {where} contains a NUL character, which no value may hold.")
    if len(text) > cap:
        raise StringRefused(where, f"Argument {where} is longer than {cap} characters.")


def _input_fields(type_: GraphQLInputType | None) -> GraphQLInputObjectType | None:
    named = get_named_type(type_) if type_ is not None else None
    return named if isinstance(named, GraphQLInputObjectType) else None


def _element_type(type_: GraphQLInputType | None) -> GraphQLInputType | None:
    if type_ is not None and is_non_null_type(type_):
        type_ = type_.of_type  # type: ignore[attr-defined]
    return type_.of_type if type_ is not None and is_list_type(type_) else type_  # type: ignore[attr-defined]


class _Walk:
    """Walks one argument's value (AST literal or variable value) with its input type."""

    def __init__(self, variables: Mapping[str, Any], defaults: Mapping[str, ValueNode]) -> None:
        self.variables = variables
        self.defaults = defaults

    def node(self, value: ValueNode, type_: GraphQLInputType | None, where: str, cap_key: str | None) -> None:
        if isinstance(value, VariableNode):
            name = value.name.value
            if name in self.variables:
                self.python(self.variables[name], type_, where, cap_key)
            elif name in self.defaults:
                self.node(self.defaults[name], type_, where, cap_key)
        elif isinstance(value, StringValueNode):
            _check(value.value, where, ARGUMENT_CAPS.get(cap_key or "", MAX_STRING))
        elif isinstance(value, ListValueNode):
            for item in value.values:
                self.node(item, _element_type(type_), where, cap_key)
        elif isinstance(value, ObjectValueNode):
            fields = _input_fields(type_)
            for f in value.fields:
                field = fields.fields.get(f.name.value) if fields is not None else None
                self.node(f.value, field.type if field is not None else None, f"{where}.{f.name.value}",
                          f"{fields.name}.{f.name.value}" if fields is not None else None)

    def python(self, value: Any, type_: GraphQLInputType | None, where: str, cap_key: str | None) -> None:
        if isinstance(value, str):
            _check(value, where, ARGUMENT_CAPS.get(cap_key or "", MAX_STRING))
        elif isinstance(value, (list, tuple)):
            for item in value:
                self.python(item, _element_type(type_), where, cap_key)
        elif isinstance(value, Mapping):
            fields = _input_fields(type_)
            for key, item in value.items():
                if isinstance(key, str):
                    _check(key, where, MAX_STRING)
                field = fields.fields.get(key) if fields is not None else None
                self.python(item, field.type if field is not None else None, f"{where}.{key}",
                            f"{fields.name}.{key}" if fields is not None else None)


class _Arguments(Visitor):
    def __init__(self, type_info: TypeInfo, walk: _Walk) -> None:
        super().__init__()
        self.type_info = type_info
        self.walk = walk

    def enter_argument(self, node: ArgumentNode, _key: Any, _parent: Any, _path: Any, ancestors: Any) -> Any:
        directive = self.type_info.get_directive()
        parent_type = self.type_info.get_parent_type()
        owner_node = ancestors[-1] if ancestors else None
        if directive is not None:
            owner = f"@{directive.name}"
        elif isinstance(owner_node, FieldNode):
            owner = f"{parent_type.name if parent_type is not None else '?'}.{owner_node.name.value}"
        else:
            owner = "?"
        argument = self.type_info.get_argument()
        name = node.name.value
        self.walk.node(node.value, argument.type if argument is not None else None, f"{owner}({name})",
                       f"{owner}.{name}")
        return SKIP  # the value was walked above, with its type


def refuse_bad_strings(schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]) -> GraphQLError | None:
    """BAD_REQUEST for the first string argument holding NUL or longer than its cap, else None."""
    defaults = {
        d.variable.name.value: d.default_value
        for op in document.definitions if isinstance(op, OperationDefinitionNode)
        for d in op.variable_definitions or () if d.default_value is not None
    }
    walk = _Walk(variables, defaults)
    type_info = TypeInfo(schema)
    try:
        visit(document, TypeInfoVisitor(type_info, _Arguments(type_info, walk)))
        # Variables no argument uses are refused by validation, but they must not carry NUL
        # into an error message or a log line on the way there either.
        for name, value in variables.items():
            walk.python(value, None, f"${name}", None)
    except StringRefused as refused:
        return GraphQLError(refused.message, extensions={"code": BAD_REQUEST, "argument": refused.where})
    return None
