"""Authenticated file downloads: an import job's error report and the directory export."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.backend import AuthenticationFailed, authenticate
from flows.audit import Origin
from flows.errors import FlowError
from flows.reports import error_report, export_directory
from flows.spreadsheets import XLSX
from gql.imports.types import job_facts
from gql.relay import parse_pk
from models import ImportJob
from permissions.jobs import can_see_import_job
from permissions.viewer import Viewer


def _not_found() -> Response:
    # The same answer for a job that does not exist and one the caller may not see.
    return JSONResponse({"error": "NOT_FOUND"}, status_code=404)


async def _viewer(request: Request) -> Viewer | Response:
    try:
        viewer = await authenticate(request.headers.get("authorization"))
    except AuthenticationFailed as exc:
        return JSONResponse({"error": "UNAUTHENTICATED", "message": str(exc)}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    if not viewer.is_authenticated:
        return JSONResponse({"error": "UNAUTHENTICATED", "message": "Sign in first."}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    return viewer


def _xlsx_response(content: bytes, file_name: str) -> Response:
    return Response(content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{file_name}"',
                                                         "Cache-Control": "no-store"})


async def error_report_file(request: Request) -> Response:
    viewer = await _viewer(request)
    if isinstance(viewer, Response):
        return viewer
    job_id = parse_pk(request.path_params["job_id"])
    job = await ImportJob.get_or_none(id=job_id) if job_id is not None else None
    if job is None or not can_see_import_job(viewer, job_facts(job)):
        return _not_found()
    return _xlsx_response(await error_report(job), f"import-{job.id}-errors.xlsx")


async def directory_export_file(request: Request) -> Response:
    viewer = await _viewer(request)
    if isinstance(viewer, Response):
        return viewer
    corp_id = parse_pk(request.path_params["corp_id"])
    if corp_id is None:
        return _not_found()
    origin = Origin(request.headers.get("x-request-id"), request.client.host if request.client else None)
    try:
        content = await export_directory(viewer, corp_id, origin=origin)
    except FlowError:
        return _not_found()
    return _xlsx_response(content, f"directory-{corp_id}.xlsx")
