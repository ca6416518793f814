"""Operation metrics in the schema: every GraphQL operation counted and timed by name and
type (Prometheus), and named in the request's log lines. The HTTP side of telemetry (request
ids, access lines, /metrics) is web/telemetry.py."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from observability.logs import annotate_request
from observability.metrics import observe_operation, operation_label


def _operation(ec: ExecutionContext) -> tuple[str, str]:
    """(label, type) of the operation the request runs: only names written in the document
    count, so a made-up operationName cannot become a label."""
    document = ec.graphql_document
    if document is None:
        return "unparsed", "unknown"
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    wanted = ec.operation_name
    if wanted is not None:
        chosen = next((o for o in operations if o.name is not None and o.name.value == wanted), None)
    else:
        chosen = operations[0] if len(operations) == 1 else None
    if chosen is None:
        return "unknown", "unknown"
    return operation_label(chosen.name.value if chosen.name else None), chosen.operation.value


class OperationMetrics(SchemaExtension):
    """Counts and times every operation by name and type, and names it in the log lines."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            label, operation_type = _operation(self.execution_context)
            observe_operation(label, operation_type, time.perf_counter() - started)

    def on_validate(self) -> Iterator[None]:
        # Parsed by now: the lines logged while the operation runs already name it.
        label, operation_type = _operation(self.execution_context)
        annotate_request(operation=label, operation_type=operation_type)
        yield
