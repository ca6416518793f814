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
its parent list may repeat it: `first` (default 20, capped at 100) for the edges/nodes
of a connection, LIST_ESTIMATE for other lists. Introspection fields (`__schema`,
`__type`) are left out: who may introspect is decided separately, and they run in memory.
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
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLInterfaceType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)

from gql.relay import DEFAULT_PAGE, MAX_PAGE

LIST_ESTIMATE = 10


@dataclass(frozen=True)
class QueryLimits:
    max_depth: int = 12
    max_aliases: int = 30
    max_repeats: int = 10
    max_tokens: int = 2000
    max_cost: int = 10_000


DEFAULT_LIMITS = QueryLimits()


@dataclass(frozen=True)
class QueryShape:
    depth: int
    aliases: int
    cost: int
    repeats: int = 0


@dataclass(frozen=True)
class LimitExceeded:
    limit: str
    allowed: int
    actual: int
    message: str


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

    def page(self, node: FieldNode) -> int:
        for arg in node.arguments or ():
            if arg.name.value != "first":
                continue
            value: Any = None
            if isinstance(arg.value, IntValueNode):
                value = int(arg.value.value)
            elif isinstance(arg.value, VariableNode):
                value = self.variables.get(arg.value.name.value)
            if value is None:
                return DEFAULT_PAGE
            if not isinstance(value, int) or isinstance(value, bool):
                return MAX_PAGE  # the resolver refuses it; cost it as the largest page meanwhile
            return min(max(value, 0), MAX_PAGE)
        return DEFAULT_PAGE

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
        repeat = (page if page is not None else LIST_ESTIMATE) if is_list else 1
        child_page = self.page(node) if _is_connection(named) else None
        return 1 + repeat * self.cost(node.selection_set, named, child_page)

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
    return QueryShape(depth=depth, aliases=count_aliases(document), cost=cost, repeats=repeats)


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
    if shape.cost > limits.max_cost:
        return LimitExceeded(
            "cost", limits.max_cost, shape.cost,
            f"The query's estimated cost is {shape.cost} (page sizes × nesting); at most {limits.max_cost} "
            "is allowed: ask for smaller pages (first) or fewer nested lists, and page through the rest.",
        )
    return None
