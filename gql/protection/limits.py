"""What one GraphQL document may ask for: depth, aliases, and an estimated cost.

The measures are taken on the parsed document *before* graphql-core validates it, so a
document built to make validation itself slow (thousands of aliases, fragment fan-out)
is refused first. Every fragment is measured once and remembered, so a fragment spread
a million times over costs one measurement; a fragment cycle measures as nothing here
and is reported by graphql-core's own NoFragmentCycles rule.

Repeats: how many fields graphql-core will merge under one response key: inline fragments
and fragment spreads flattened in, and the selections of same-key parents merged, so five
`viewer`s each holding five `corp`s make 25 `corp`s. OverlappingFieldsCanBeMerged compares
every pair of them, recursively: 280 copies of `viewer { corp { name } }`, or five-by-five
nestings, cost it half a second or more while staying inside the token limit; real queries
merge a key a few times at most.

Estimated cost, in resolver calls: every field counts 1, multiplied by how many times
its parent list may repeat it: its size argument (SIZE_ARGUMENTS: `first` for the
edges/nodes of a connection, `limit` for a plain list) or, for a list without one,
LIST_ESTIMATE; plus one per item of the lists the client sends as arguments.
Introspection fields (`__schema`, `__type`) are left out: who may introspect is decided
separately, and they run in memory.

Bounds on arguments: a size argument outside its range (`limit: "page"`), and a list sent
as an argument (or inside an input object) longer than its bound (`limit: "list"`) are
refused here, whatever the resolver would have done with them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)

from gql.relay import DEFAULT_PAGE, MAX_PAGE

LIST_ESTIMATE = 10


@dataclass(frozen=True)
class SizeArgument:
    """An argument that sizes a list answer: at most `largest`, `default` when omitted or null."""

    largest: int
    default: int


# Every argument that sizes a list answer, by name: a list field with an Int argument
# must size it with one of these (tests/web/test_request_edges.py walks the schema for it).
SIZE_ARGUMENTS: Mapping[str, SizeArgument] = {
    "first": SizeArgument(MAX_PAGE, DEFAULT_PAGE),  # connections (gql.relay)
    "limit": SizeArgument(500, 100),  # ImportJob.errors
}
# Int arguments of list fields that place the answer without sizing it.
POSITION_ARGUMENTS = frozenset({"offset"})

# Lists a client sends (arguments and input-object fields): at most this many items,
# unless named below by schema coordinate.
MAX_LIST_INPUT = 1000
LIST_INPUT_BOUNDS: Mapping[str, int] = {
    # Rows sent in the mutation instead of a file: a few screens' worth; more goes as a file.
    "ImportDirectoryInput.rows": 5000,
    "ImportChainContactsInput.rows": 5000,
}


@dataclass(frozen=True)
class QueryLimits:
    max_depth: int = 12
    max_aliases: int = 30
    max_repeats: int = 10
    max_tokens: int = 2000
    max_cost: int = 10_000


DEFAULT_LIMITS = QueryLimits()


@dataclass(frozen=True)
class LimitExceeded:
    limit: str
    allowed: int
    actual: int
    message: str
    # The schema coordinate of an argument over its bound (`Corp.members(first:)`).
    argument: str | None = None


@dataclass(frozen=True)
class QueryShape:
    depth: int
    aliases: int
    cost: int
    repeats: int = 0
    # The first argument found outside its bound.
    argument: LimitExceeded | None = None


def _unwrap(type_: Any) -> tuple[Any, bool]:
    """The named type under NonNull/List wrappers, and whether a list was among them."""
    is_list = False
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


def _is_connection(named: Any) -> bool:
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection") and "edges" in named.fields


@dataclass
class _Measure:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    _depth_memo: dict[str, int] = field(default_factory=dict)
    _cost_memo: dict[tuple[str, int | None], int] = field(default_factory=dict)
    _active: set[str] = field(default_factory=set)
    out_of_bounds: LimitExceeded | None = None

    # --- depth ------------------------------------------------------------------------

    def depth(self, selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        deepest = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                if sel.name.value.startswith("__"):
                    continue
                deepest = max(deepest, 1 + self.depth(sel.selection_set))
            elif isinstance(sel, InlineFragmentNode):
                deepest = max(deepest, self.depth(sel.selection_set))
            elif isinstance(sel, FragmentSpreadNode):
                deepest = max(deepest, self._fragment_depth(sel.name.value))
        return deepest

    def _fragment_depth(self, name: str) -> int:
        if name in self._depth_memo:
            return self._depth_memo[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self._active:
            return 0  # unknown fragments and cycles: graphql-core's validation reports them
        self._active.add(name)
        try:
            value = self.depth(fragment.selection_set)
        finally:
            self._active.discard(name)
        self._depth_memo[name] = value
        return value

    # --- repeats ----------------------------------------------------------------------

    def most_merged(self, sets: list[SelectionSetNode], cap: int) -> int:
        """The most fields graphql-core will merge under one response key anywhere below
        `sets` (selection sets merged because their parents share a key). Stops counting
        once past `cap`: the answer is then only known to be too many."""
        groups: dict[str, list[SelectionSetNode | None]] = defaultdict(list)
        seen: set[str] = set()
        for selection_set in sets:
            self._collect(selection_set, groups, seen)
        worst = 0
        for subs in groups.values():
            worst = max(worst, len(subs))
            if worst > cap:
                return worst
            children = [c for c in subs if c is not None]
            if children:
                worst = max(worst, self.most_merged(children, cap))
                if worst > cap:
                    return worst
        return worst

    def _collect(
        self, selection_set: SelectionSetNode, groups: dict[str, list[SelectionSetNode | None]], seen: set[str]
    ) -> None:
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                groups[(sel.alias or sel.name).value].append(sel.selection_set)
            elif isinstance(sel, InlineFragmentNode):
                self._collect(sel.selection_set, groups, seen)
            elif isinstance(sel, FragmentSpreadNode):
                # graphql-core compares a fragment once per selection, however often spread.
                fragment = self.fragments.get(sel.name.value)
                if fragment is not None and sel.name.value not in seen:
                    seen.add(sel.name.value)
                    self._collect(fragment.selection_set, groups, seen)

    # --- cost -------------------------------------------------------------------------

    def _value(self, node: ValueNode | None) -> Any:
        """A variable's raw value, else the node itself (a literal)."""
        return self.variables.get(node.name.value) if isinstance(node, VariableNode) else node

    def size(self, node: FieldNode, definition: Any, coordinate: str) -> int | None:
        """The bounded value of the field's size argument; None when it has none."""
        names = [n for n in definition.args if n in SIZE_ARGUMENTS]
        if not names:
            return None
        bound = SIZE_ARGUMENTS[names[0]]
        given = next((a.value for a in node.arguments or () if a.name.value == names[0]), None)
        value = self._value(given)
        if isinstance(value, IntValueNode):
            value = int(value.value)
        if value is None or isinstance(value, NullValueNode):
            return bound.default
        if not isinstance(value, int) or isinstance(value, bool):
            return bound.largest  # graphql-core refuses it; cost it as the largest meanwhile
        if not 0 <= value <= bound.largest:
            self._refuse(LimitExceeded(
                "page", bound.largest, value,
                f"{names[0]} must be between 0 and {bound.largest} ({coordinate}); it is {value}.",
                argument=f"{coordinate}({names[0]}:)",
            ))
        return min(max(value, 0), bound.largest)

    def _refuse(self, exceeded: LimitExceeded) -> None:
        if self.out_of_bounds is None:
            self.out_of_bounds = exceeded

    def list_items(self, node: FieldNode, definition: Any, coordinate: str) -> int:
        """Items of every list the field's arguments send, nested ones included; each list
        checked against its bound."""
        total = 0
        for arg in node.arguments or ():
            arg_def = definition.args.get(arg.name.value)
            if arg_def is not None:
                total += self._items(self._value(arg.value), arg_def.type, f"{coordinate}({arg.name.value}:)")
        return total

    def _items(self, value: Any, type_: Any, coordinate: str) -> int:
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            items = value.values if isinstance(value, ListValueNode) else value if isinstance(value, list) else None
            if items is None:
                return 0  # null, or one value that graphql-core coerces into a list of one
            bound = LIST_INPUT_BOUNDS.get(coordinate, MAX_LIST_INPUT)
            if len(items) > bound:
                self._refuse(LimitExceeded(
                    "list", bound, len(items),
                    f"{coordinate} holds {len(items)} items; at most {bound} are allowed.", argument=coordinate,
                ))
                return len(items)  # not walked further: the request is refused
            return len(items) + sum(self._items(self._value(v), type_.of_type, coordinate) for v in items)
        if isinstance(type_, GraphQLInputObjectType):
            if isinstance(value, ObjectValueNode):
                fields: Mapping[str, Any] = {f.name.value: self._value(f.value) for f in value.fields}
            elif isinstance(value, dict):
                fields = value
            else:
                return 0
            return sum(
                self._items(v, type_.fields[k].type, f"{type_.name}.{k}") for k, v in fields.items() if k in type_.fields
            )
        return 0

    def cost(self, selection_set: SelectionSetNode | None, parent: Any, page: int | None) -> int:
        if selection_set is None:
            return 0
        total = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                total += self._field_cost(sel, parent, page)
            elif isinstance(sel, InlineFragmentNode):
                condition = sel.type_condition
                scope = self.schema.get_type(condition.name.value) if condition else parent
                total += self.cost(sel.selection_set, scope, page)
            elif isinstance(sel, FragmentSpreadNode):
                total += self._fragment_cost(sel.name.value, page)
        return total

    def _field_cost(self, node: FieldNode, parent: Any, page: int | None) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0 if name != "__typename" else 1
        definition = None
        if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            definition = parent.fields.get(name)
        if definition is None:
            # Unknown here (graphql-core will refuse it): still count what it asks for.
            return 1 + self.cost(node.selection_set, None, None)
        named, is_list = _unwrap(definition.type)
        coordinate = f"{parent.name}.{name}"
        size = self.size(node, definition, coordinate)
        sent = self.list_items(node, definition, coordinate)
        if _is_connection(named):
            # The connection is one object; its size repeats the edges and nodes below it.
            return 1 + sent + self.cost(node.selection_set, named, size if size is not None else DEFAULT_PAGE)
        if is_list:
            repeat = size if size is not None else page if page is not None else LIST_ESTIMATE
        else:
            repeat = 1
        return 1 + sent + repeat * self.cost(node.selection_set, named, None)

    def _fragment_cost(self, name: str, page: int | None) -> int:
        key = (name, page)
        if key in self._cost_memo:
            return self._cost_memo[key]
        fragment = self.fragments.get(name)
        if fragment is None or name in self._active:
            return 0
        self._active.add(name)
        try:
            scope: GraphQLNamedType | None = self.schema.get_type(fragment.type_condition.name.value)
            value = self.cost(fragment.selection_set, scope, page)
        finally:
            self._active.discard(name)
        self._cost_memo[key] = value
        return value


def count_aliases(document: DocumentNode) -> int:
    """Aliases written in the document; each one is a field the client may ask for again."""
    count = 0
    stack: list[SelectionSetNode] = [
        d.selection_set for d in document.definitions if isinstance(d, (OperationDefinitionNode, FragmentDefinitionNode))
    ]
    while stack:
        for sel in stack.pop().selections:
            if isinstance(sel, FieldNode):
                count += sel.alias is not None
                if sel.selection_set is not None:
                    stack.append(sel.selection_set)
            elif isinstance(sel, InlineFragmentNode):
                stack.append(sel.selection_set)
    return count


def _root_type(schema: GraphQLSchema, operation: OperationType) -> GraphQLObjectType | None:
    if operation is OperationType.MUTATION:
        return schema.mutation_type
    if operation is OperationType.SUBSCRIPTION:
        return schema.subscription_type
    return schema.query_type


def measure(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None, cap: int = 1000
) -> QueryShape:
    """Depth, aliases, repeats and estimated cost of the document's heaviest operation
    (repeats counted up to `cap`)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    m = _Measure(schema, fragments, variables or {})
    depth = cost = 0
    for d in document.definitions:
        if isinstance(d, OperationDefinitionNode):
            depth = max(depth, m.depth(d.selection_set))
            cost = max(cost, m.cost(d.selection_set, _root_type(schema, d.operation), None))
    roots = [d.selection_set for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    repeats = max((m.most_merged([r], cap) for r in roots), default=0)
    return QueryShape(
        depth=depth, aliases=count_aliases(document), cost=cost, repeats=repeats, argument=m.out_of_bounds
    )


def first_exceeded(shape: QueryShape, limits: QueryLimits) -> LimitExceeded | None:
    if shape.aliases > limits.max_aliases:
        return LimitExceeded(
            "aliases", limits.max_aliases, shape.aliases,
            f"The query uses {shape.aliases} aliases; at most {limits.max_aliases} are allowed.",
        )
    if shape.repeats > limits.max_repeats:
        return LimitExceeded(
            "repeats", limits.max_repeats, shape.repeats,
            f"The query asks for one field {shape.repeats} times over in one place (repeated fields, "
            f"fragments and parents merge); at most {limits.max_repeats} are allowed.",
        )
    if shape.depth > limits.max_depth:
        return LimitExceeded(
            "depth", limits.max_depth, shape.depth,
            f"The query is nested {shape.depth} levels deep; at most {limits.max_depth} are allowed.",
        )
    if shape.argument is not None:
        return shape.argument
    if shape.cost > limits.max_cost:
        return LimitExceeded(
            "cost", limits.max_cost, shape.cost,
            f"The query's estimated cost is {shape.cost} (page sizes × nesting); at most {limits.max_cost} "
            "is allowed: ask for smaller pages (first) or fewer nested lists, and page through the rest.",
        )
    return None
