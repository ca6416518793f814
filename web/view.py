"""The /graphql view: Strawberry's ASGI view with every refusal GraphQL-shaped and coded.

- No batching: a JSON array is refused (the schema has no batching config).
- GET runs queries only; a mutation over GET is 405 with `Allow: POST`.
- Only `application/json` bodies, GET query strings, and GraphQL multipart requests (file
  uploads for imports). Form-encoded posts are refused. Cross-site form posts gain nothing:
  credentials travel only in the Authorization header, which no form can set.
- GraphiQL is rendered only where introspection is allowed, decided per request, from
  files this gateway serves itself (`web.graphiql`: no CDN).
- Persisted queries (`gql.persisted`): a request may name a safelisted document by its
  sha256 instead of sending it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from cross_web import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL, StarletteRequestAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from auth.backend import AuthenticationFailed, authenticate
from gql import persisted
from gql.context import Context, make_context
from gql.protection.errors import BAD_REQUEST
from gql.protection.extension import ProtectedSchema
from gql.protection.viewers import may_introspect
from permissions.viewer import ANONYMOUS, Viewer
from web.graphiql import graphiql_html
from web.responses import error_response, json_body


def scope_viewer(scope: Scope) -> Viewer:
    """The Viewer the gate authenticated, anonymous when the request carried no token."""
    viewer = (scope.get("state") or {}).get("viewer", ANONYMOUS)
    return viewer if isinstance(viewer, Viewer) else ANONYMOUS


class _ScopedRequestAdapter(StarletteRequestAdapter):
    """Keeps the ASGI scope at hand: the gate left the Viewer there."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.scope = request.scope


class _SignedInSocket(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, where every operation a socket sends (query, mutation or
    subscription) first checks the socket's token again: a token stays dead on a socket
    opened before it died. A dead one closes the socket with 4403, as at connection_init."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and not await self.context.still_signed_in():
            await self.websocket.close(code=4403, reason="Unauthenticated")
            return
        await super().handle_subscribe(message)


def _multipart_json(value: Any, field: str, kind: type) -> Any:
    if value is None:
        example = '{"0": ["variables.input.file"]}' if field == "map" else '{"query": "...", "variables": {...}}'
        raise HTTPException(400, f"The multipart request has no `{field}` field (e.g. {field}={example}).")
    try:
        parsed = json.loads(value)
    except (ValueError, TypeError, RecursionError) as exc:
        raise HTTPException(400, f"The multipart `{field}` field is not JSON.") from exc
    if not isinstance(parsed, kind):
        raise HTTPException(400, f"The multipart `{field}` field must be a JSON object.")
    return parsed


def _put_file(operations: dict[str, Any], path: str, part: str, file: Any) -> None:
    """Put `file` at `path` ("variables.input.file") in `operations`: everything but the last
    step must exist (the client declares the variable, as null, in its operations)."""
    *parents, last = path.split(".")
    target: Any = operations
    try:
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = file
        elif isinstance(target, dict):
            target[last] = file
        else:
            raise TypeError(path)
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise HTTPException(
            400, f"`map` puts the file part {part!r} at {path!r}, which names nothing in `operations` "
            "(send that variable as null there)."
        ) from exc


class ProtectedGraphQL(GraphQL[Context, None]):
    request_adapter_class = _ScopedRequestAdapter
    graphql_transport_ws_handler_class = _SignedInSocket

    def __init__(self, schema: Any) -> None:
        # The IDE is configured, but shown only to whoever may introspect (below). Sockets speak
        # graphql-transport-ws only: the legacy graphql-ws protocol would be a second door.
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True, multipart_uploads_enabled=True,
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except ClientDisconnect:
            return  # the client left while sending its body: nobody to answer, nothing went wrong
        except HTTPException as exc:
            headers = {"Allow": "POST"} if exc.status_code == 405 else None
            response = error_response(exc.status_code, exc.reason, BAD_REQUEST, headers=headers)
        finally:
            # Uploaded files are spooled to temporary files: close them whatever happened.
            await request.close()
        await response(scope, receive, send)

    def encode_json(self, data: object) -> bytes:
        return json_body(data)

    async def get_context(self, request: Any, response: Any) -> Context:
        return make_context(scope_viewer(request.scope), request, response)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A socket authenticates once, with the token in its `connection_init` payload
        (browsers cannot set headers on a websocket); a bad token closes it with 4403."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        token = header if isinstance(header, str) else None
        try:
            viewer = await authenticate(token)
        except AuthenticationFailed as exc:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"}) from exc
        context.refresh(viewer)

        async def reauthenticate() -> Viewer | None:
            try:
                return await authenticate(token)
            except AuthenticationFailed:
                return None

        context.reauthenticate = reauthenticate
        return UNSET

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_html()

    def should_render_graphql_ide(self, request: Any) -> bool:
        # Without the right to introspect, a GET without a query is just a request without
        # a query (400), the same answer as if no IDE existed. A GET naming a persisted query
        # (`id`, `extensions`) is a request, not a visit.
        scope = getattr(request, "scope", {})
        names_a_document = any(request.query_params.get(p) is not None for p in ("id", "extensions"))
        return (
            super().should_render_graphql_ide(request) and not names_a_document and may_introspect(scope_viewer(scope))
        )

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        try:
            data = await super().parse_http_body(request)
            if isinstance(data, GraphQLRequestData) and data.query is None:
                data = await self._with_persisted_id(request, data)
            return data
        except HTTPException:
            raise
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            # JSON that is not an object (a number, a string, null), numbers too long to
            # read, invalid UTF-8, nesting past the recursion limit: all the client's doing.
            raise HTTPException(400, "The body must be a JSON object with a `query` string.") from exc

    async def parse_multipart(self, request: Any) -> dict[str, Any]:
        """A GraphQL multipart request (the multipart request spec), each mistake named: an
        `operations` or `map` field missing or not JSON, a map entry naming a file part the
        request does not carry or a place in `operations` that does not exist. Strawberry
        would leave the variable null instead, which a mutation then reports as a missing
        file. (File parts that no map entry names are ignored, as the spec's servers do.)"""
        try:
            form = await request.get_form_data()
        except ValueError as exc:
            raise HTTPException(400, "Unable to parse the multipart body.") from exc
        operations = _multipart_json(form.form.get("operations"), "operations", dict)
        files_map = _multipart_json(form.form.get("map"), "map", dict)
        # Starlette hands every part over as one mapping: the file parts are those not text.
        files = {name: value for name, value in form.files.items() if not isinstance(value, str)}
        for part, paths in files_map.items():
            if part not in files:
                raise HTTPException(400, f"`map` names the file part {part!r}, which the request does not carry as a file.")
            if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
                raise HTTPException(400, f"`map` entry {part!r} must be a list of paths such as \"variables.input.file\".")
            for path in paths:
                _put_file(operations, path, part, files[part])
        return operations

    async def _with_persisted_id(self, request: Any, data: GraphQLRequestData) -> GraphQLRequestData:
        """`{"id": "<sha256>"}` (or `?id=`) names a persisted query, as the Apollo extension
        does. Looked up only for a request without a query: a persisted request's body is a
        few bytes, already read, so reading its `id` costs nothing."""
        if request.method == "GET":
            ident = request.query_params.get("id")
        elif (request.content_type or "").split(";", 1)[0].strip() == "application/json":
            body = json.loads(await request.get_body())
            ident = body.get("id") if isinstance(body, dict) else None
        else:
            ident = None
        if ident is None or (data.extensions or {}).get("persistedQuery") is not None:
            return data
        try:
            return replace(data, extensions=persisted.with_id_as_extension(data.extensions, ident))
        except persisted.PersistedQueryRefused as exc:
            raise HTTPException(400, str(exc)) from exc

    async def execute_operation(
        self, request: Any, request_adapter: Any, request_data: Any, context: Context, root_value: Any,
        sub_response: Any,
    ) -> Any:
        if isinstance(request_data, GraphQLRequestData):
            try:
                document = persisted.resolve_document(request_data.query, request_data.extensions)
            except persisted.PersistedQueryRefused as exc:
                assert isinstance(self.schema, ProtectedSchema)
                return self.schema.refusal(exc.error, context)
            request_data = replace(request_data, query=document)
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, "Only queries may be sent with GET; send mutations with POST.") from exc
            raise
