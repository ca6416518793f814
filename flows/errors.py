"""Business-rule failures: raised inside a flow's transaction, returned as payload userErrors."""

from __future__ import annotations


class FlowError(Exception):
    """A business-rule failure (SPEC §3): `code` a stable UPPER_SNAKE code, `message` for a
    person, `field` the input field at fault (camelCase) or None. Raised inside the flow's
    transaction, so nothing is applied; the API returns it as a payload userError."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class NotFound(FlowError):
    """The same answer for objects that do not exist and objects the actor may not see."""

    def __init__(self, field: str | None = None) -> None:
        super().__init__("NOT_FOUND", "No such object.", field)


class Forbidden(FlowError):
    """FORBIDDEN: the actor is of the wrong kind for this flow (e.g. an app where a person is needed)."""

    def __init__(self, message: str = "You may not do this.", field: str | None = None) -> None:
        super().__init__("FORBIDDEN", message, field)
