"""Response bodies: every GraphQL answer's JSON (`json_body`), and GraphQL-shaped error
responses for refusals made before any GraphQL runs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from observability.metrics import count_error


def error_response(
    status: int, message: str, code: str, *, headers: Mapping[str, str] | None = None, **extensions: Any
) -> Response:
    count_error(code)
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return Response(json.dumps(body), status_code=status, media_type="application/json", headers=dict(headers or {}))


def json_body(data: object) -> bytes:
    """`data` as compact UTF-8 JSON, Chinese as Chinese (`王建国`, not `\\u738b…`), for
    people reading answers in a terminal.

    orjson writes it (a members page of 100 in about a tenth of the standard library's
    time). What orjson refuses, the standard library writes: a lone surrogate (only a
    client's own input can hold one) as its JSON escape, so the body is always valid UTF-8,
    and an integer past 64 bits as its digits."""
    try:
        return orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "backslashreplace")
