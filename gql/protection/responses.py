"""GraphQL-shaped error responses for refusals made before any GraphQL runs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from observability.metrics import count_error


def error_response(
    status: int, message: str, code: str, *, headers: Mapping[str, str] | None = None, **extensions: Any
) -> Response:
    count_error(code)
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return Response(json.dumps(body), status_code=status, media_type="application/json", headers=dict(headers or {}))
