"""Every error leaves with a stable `extensions.code`; internal errors leave masked.

Codes (documented in the README):
- UNAUTHENTICATED: credentials missing where required, invalid, expired or revoked (HTTP 401).
- FORBIDDEN: the request is understood but not allowed to this viewer (introspection;
  a file upload from a viewer who may import nothing, HTTP 403).
- RATE_LIMITED: the caller's budget is spent; `retryAfter` seconds (HTTP 429, Retry-After).
- BAD_REQUEST: the request is malformed, invalid against the schema, or over a limit
  (`extensions.limit` names it: depth, aliases, tokens, cost, body, batch, page, list).
- INTERNAL_SERVER_ERROR: a fault on our side; outside dev mode the message is generic and
  the details are only in the log, under the request id the error carries.
- PERSISTED_QUERY_NOT_FOUND: the request names a persisted query the safelist lacks.
- PERSISTED_QUERY_REQUIRED: this kind of viewer may run safelisted documents only.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError

from observability.logs import clip

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
RATE_LIMITED = "RATE_LIMITED"
BAD_REQUEST = "BAD_REQUEST"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_REQUIRED = "PERSISTED_QUERY_REQUIRED"

STABLE_CODES = frozenset({
    UNAUTHENTICATED, FORBIDDEN, RATE_LIMITED, BAD_REQUEST, INTERNAL_SERVER_ERROR,
    PERSISTED_QUERY_NOT_FOUND, PERSISTED_QUERY_REQUIRED,
})

MASKED_MESSAGE = "Internal server error."
# An exception's message may quote what the client sent; the log keeps only its start.
MAX_LOGGED_MESSAGE = 500

log = logging.getLogger("chaingate.errors")

# graphql-core's hints name fields, arguments, types and enum values close to what was
# written ("Did you mean 'mobile'?"): a way to map a schema whose introspection is off.
_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


def error(message: str, code: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


def is_internal(err: GraphQLError) -> bool:
    """A fault on our side: any exception that is not a deliberate GraphQL error.

    Syntax and validation errors carry no original error; resolvers raise GraphQLError on
    purpose (bad_request, unauthenticated); variable coercion wraps its GraphQLError. A
    parser driven past the recursion limit is the client's doing, not ours.
    """
    original = err.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    return not isinstance(original, RecursionError)


def classify(err: GraphQLError) -> str:
    code = (err.extensions or {}).get("code")
    if isinstance(code, str) and code:
        return code
    return INTERNAL_SERVER_ERROR if is_internal(err) else BAD_REQUEST


def apply_policy(errors: list[GraphQLError], *, dev: bool, suggestions: bool, request_id: str | None) -> None:
    """Code, trim and mask errors in place, and log the internal ones with the request id.

    In place because this runs in the one hook every error passes through (the schema's
    process_errors), including errors raised outside the operation proper.
    """
    for err in errors:
        code = classify(err)
        extensions = dict(err.extensions or {})
        extensions["code"] = code
        if isinstance(err.original_error, RecursionError):
            err.message = "The request is nested too deeply."
            extensions["limit"] = "depth"
        elif isinstance(err, GraphQLSyntaxError) and "more than" in err.message and "tokens" in err.message:
            extensions.setdefault("limit", "tokens")
        elif isinstance(err, GraphQLSyntaxError) and "nested too deeply" in err.message:
            extensions.setdefault("limit", "depth")
        if code == INTERNAL_SERVER_ERROR:
            log.error(
                "internal error in %s (request %s): %s",
                ".".join(str(p) for p in err.path or ()) or "request", request_id, clip(err.message, MAX_LOGGED_MESSAGE),
                exc_info=err.original_error,
            )
            extensions["requestId"] = request_id
            if not dev:
                err.message = MASKED_MESSAGE
        elif not suggestions:
            err.message = without_suggestions(err.message)
        err.extensions = extensions
