"""Authenticated file downloads: an import job's error report and the directory export.

The id in the path is the global id GraphQL hands out (`ImportJob.reportUrl` and
`Corp.exportUrl` use it) or the plain number; refusals have the GraphQL error shape
(`{"errors": [{"message", "extensions": {"code"}}]}`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from auth.backend import AuthenticationFailed, authenticate
from flows.access import access_import_job
from flows.audit import Origin
from flows.errors import FlowError
from flows.reports import error_report, export_directory
from flows.spreadsheets import XLSX
from gql.relay import or_none, pk_from_text
from permissions.viewer import Viewer
from web.responses import error_response


def _not_found(what: str) -> Response:
    # The same answer for an object that does not exist and one the caller may not see.
    return error_response(404, f"No such {what}, or not one you may download.", "NOT_FOUND")


def _unauthenticated(message: str) -> Response:
    return error_response(401, message, "UNAUTHENTICATED", headers={"WWW-Authenticate": "Bearer"})


async def _viewer(request: Request) -> Viewer | Response:
    try:
        viewer = await authenticate(request.headers.get("authorization"))
    except AuthenticationFailed as exc:
        return _unauthenticated(str(exc))
    if not viewer.is_authenticated:
        return _unauthenticated("Sign in first: send Authorization: Bearer <token>.")
    return viewer


def _xlsx_response(content: bytes, file_name: str) -> Response:
    return Response(content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{file_name}"',
                                                         "Cache-Control": "no-store"})


async def error_report_file(request: Request) -> Response:
    viewer = await _viewer(request)
    if isinstance(viewer, Response):
        return viewer
    job_id = pk_from_text(request.path_params["job_id"], "ImportJob")
    job = await or_none(access_import_job(viewer, job_id)) if job_id is not None else None
    if job is None:
        return _not_found("import job")
    return _xlsx_response(await error_report(job), f"import-{job.id}-errors.xlsx")


async def directory_export_file(request: Request) -> Response:
    viewer = await _viewer(request)
    if isinstance(viewer, Response):
        return viewer
    corp_id = pk_from_text(request.path_params["corp_id"], "Corp")
    if corp_id is None:
        return _not_found("corp")
    origin = Origin(request.headers.get("x-request-id"), request.client.host if request.client else None)
    try:
        content = await export_directory(viewer, corp_id, origin=origin)
    except FlowError:
        return _not_found("corp")
    return _xlsx_response(content, f"directory-{corp_id}.xlsx")
