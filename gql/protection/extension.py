"""Per-request protection inside the schema: introspection by viewer, the persisted-query
safelist, query limits and string arguments (NUL, length caps) before validation, and the
error policy every error passes through (where errors are also counted for /metrics)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, ValidationRule
from strawberry.extensions import MaxTokensLimiter, SchemaExtension
from strawberry.types import ExecutionContext, ExecutionResult

from gql.operation_metrics import OperationMetrics
from gql.persisted import PersistedQueryPolicy
from gql.protection import documents
from gql.protection.arguments import refuse_bad_strings
from gql.protection.errors import BAD_REQUEST, FORBIDDEN, apply_policy
from gql.protection.limits import DEFAULT_LIMITS, QueryLimits, first_exceeded, measure
from gql.protection.viewers import may_introspect, sees_suggestions, viewer_of
from models.settings import get_settings
from observability.metrics import count_error


class NoIntrospectionRule(ValidationRule):
    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.name.value in ("__schema", "__type"):
            self.report_error(
                GraphQLError("Introspection is not available to this viewer.", node, extensions={"code": FORBIDDEN})
            )


class RequestProtection(SchemaExtension):
    """Instantiated per request (the schema is given the class), so its decisions are per request."""

    limits: QueryLimits = DEFAULT_LIMITS

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        if not may_introspect(viewer_of(ec.context)):
            ec.validation_rules = (*ec.validation_rules, NoIntrospectionRule)
        yield

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        cached = documents.parsed.get(ec.query) if ec.query and ec.graphql_document is None else None
        if cached is not None:
            ec.graphql_document = cached  # Strawberry then skips parsing
        yield
        if cached is None and ec.query and ec.graphql_document is not None:
            documents.parsed.put(ec.query, ec.graphql_document)

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        key = None
        if ec.graphql_document is not None and ec.pre_execution_errors is None:
            # The limits and the string checks depend on the variables (page sizes, search
            # terms): worked out for each new (text, variables), kept when they pass.
            variables = ec.variables if isinstance(ec.variables, dict) else {}
            checked = documents.checks_key(ec.query, variables, self.limits) if ec.query else None
            refusal = _unnamed_choice(ec)
            if refusal is None and (checked is None or not documents.checked.get(checked)):
                refusal = self._over_limit(ec) or refuse_bad_strings(ec.schema._schema, ec.graphql_document, variables)
                if refusal is None and checked is not None:
                    documents.checked.put(checked, True)
            if refusal is not None:
                # Set before graphql-core's validation runs: Strawberry then skips it and
                # answers with this error alone, so an abusive document is never walked twice.
                ec.pre_execution_errors = [refusal]
            elif ec.query:
                key = documents.validation_key(ec.query, ec.validation_rules)
                if documents.validated.get(key):
                    ec.pre_execution_errors = []  # validated before under the same rules
                    key = None
        yield
        if key is not None and ec.pre_execution_errors == []:
            documents.validated.put(key, True)

    def _over_limit(self, ec: ExecutionContext) -> GraphQLError | None:
        assert ec.graphql_document is not None
        variables = ec.variables if isinstance(ec.variables, dict) else {}
        try:
            shape = measure(ec.schema._schema, ec.graphql_document, variables)
        except RecursionError:
            return GraphQLError(
                "The query is nested too deeply.",
                extensions={"code": BAD_REQUEST, "limit": "depth", "allowed": self.limits.max_depth},
            )
        exceeded = first_exceeded(shape, self.limits)
        if exceeded is None:
            return None
        extensions = {
            "code": BAD_REQUEST, "limit": exceeded.limit, "allowed": exceeded.allowed, "actual": exceeded.actual,
        }
        if exceeded.argument is not None:
            extensions["argument"] = exceeded.argument
        return GraphQLError(exceeded.message, extensions=extensions)


def _unnamed_choice(ec: ExecutionContext) -> GraphQLError | None:
    """A document of several operations needs `operationName` (GraphQL spec, "GetOperation").

    Strawberry would run the first one instead, so a client (or a proxy that logs and
    rate-limits by the first name) could be told one operation and run another. Checked
    here, in the schema, so it holds for POST, GET, persisted queries and websockets alike.
    """
    assert ec.graphql_document is not None
    # The name the request gave; `ec.operation_name` falls back to the first operation's.
    given = getattr(ec, "_provided_operation_name", None)
    operations = sum(isinstance(d, OperationDefinitionNode) for d in ec.graphql_document.definitions)
    if given is not None or operations <= 1:
        return None
    return GraphQLError(
        f"The document holds {operations} operations: say which one to run with operationName.",
        extensions={"code": BAD_REQUEST},
    )


class ProtectedSchema(strawberry.Schema):
    """The schema with the error policy in `process_errors`, the one hook every error passes
    through (parse, validation, execution, and errors raised by extensions themselves)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        self._apply_policy(errors, execution_context.context if execution_context is not None else None)

    def refusal(self, error: GraphQLError, context: Any) -> ExecutionResult:
        """The answer to a request refused before it reached the schema (an unknown
        persisted query), coded, masked and counted like any other error."""
        self._apply_policy([error], context)
        return ExecutionResult(data=None, errors=[error])

    def _apply_policy(self, errors: list[GraphQLError], context: Any) -> None:
        origin = getattr(context, "origin", None)
        apply_policy(
            errors,
            dev=get_settings().dev,
            suggestions=sees_suggestions(viewer_of(context)),
            request_id=getattr(origin, "request_id", None),
        )
        for err in errors:
            count_error((err.extensions or {}).get("code", ""))


# Order matters: the metrics wrap everything; the safelist is checked before the limits.
PROTECTION_EXTENSIONS = (
    OperationMetrics,
    PersistedQueryPolicy,
    functools.partial(MaxTokensLimiter, max_token_count=DEFAULT_LIMITS.max_tokens),
    RequestProtection,
)
