"""Hints: advice for the caller in the response's top-level `extensions.hints`, for answers
that are right but puzzling (a `null` because no token was sent). A hint never depends on
what exists: it says what the request lacked, not what the database holds."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension

from gql.context import Info

NO_TOKEN = "NO_TOKEN"


def hint_without_token(info: Info, what: str) -> None:
    """When the request carried no token, say so next to the `null` it gets for `what`:
    anonymous callers see no corp, whether or not it exists."""
    if info.context.viewer.is_authenticated:
        return
    path = []
    at: Any = info.path
    while at is not None:
        path.append(at.key)
        at = at.prev
    info.context.hints.append({
        "code": NO_TOKEN,
        "path": list(reversed(path)),
        "message": f"{what} is null for requests without a token: send Authorization: Bearer <token>.",
    })


class Hints(SchemaExtension):
    """Adds the request's hints (Context.hints) to the response's `extensions`."""

    def get_results(self) -> dict[str, Any]:
        hints = getattr(self.execution_context.context, "hints", None)
        return {"hints": list(hints)} if hints else {}
