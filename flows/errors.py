"""Business-rule failures: raised inside a flow's transaction, returned as payload userErrors."""

from __future__ import annotations


class FlowError(Exception):
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
    def __init__(self, message: str = "You may not do this.", field: str | None = None) -> None:
        super().__init__("FORBIDDEN", message, field)
