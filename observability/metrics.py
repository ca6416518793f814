"""Prometheus metrics: GraphQL operations by name, errors by code, HTTP requests by route,
import jobs by kind and outcome, Viewers built by kind.

Several worker processes (`chaingate serve --workers N`) each count their own requests; in
prometheus-client's multi-process mode (`PROMETHEUS_MULTIPROC_DIR`, which `serve` sets up
for N > 1) every process writes its samples to files in that directory and `/metrics`,
whichever worker answers it, adds them all up. The variable must be set before this module
is first imported: the value classes are chosen at import.

Label values a client can influence (operation names, error codes) are bounded: past a
fixed number of distinct values per process, new ones are counted as "other", so a client
inventing operation names cannot grow the gateway's memory or the scrape without end.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "other"


class BoundedLabel:
    """The first `limit` distinct values pass through; later new ones become "other"."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        # Import jobs may report from a thread pool; requests from the event loop.
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        with self._lock:
            if value in self._seen:
                return value
            if len(self._seen) >= self.limit:
                return OTHER
            self._seen.add(value)
            return value


_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_operation_names = BoundedLabel(500)
_error_codes = BoundedLabel(100)
_KNOWN_METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})

GRAPHQL_OPERATIONS = Counter(
    "chaingate_graphql_operations_total",
    "GraphQL operations run, by operation name and type (query, mutation, subscription).",
    ["operation", "type"],
)
GRAPHQL_DURATION = Histogram(
    "chaingate_graphql_operation_duration_seconds",
    "Time to parse, validate and execute a GraphQL operation, by operation name and type.",
    ["operation", "type"],
)
ERRORS = Counter(
    "chaingate_errors_total",
    "Errors returned to clients, by extensions.code (GraphQL errors and refusals before GraphQL).",
    ["code"],
)
HTTP_REQUESTS = Counter(
    "chaingate_http_requests_total", "HTTP requests answered, by route, method and status.", ["route", "method", "status"]
)
HTTP_DURATION = Histogram(
    "chaingate_http_request_duration_seconds", "Time from the request to the end of the response, by route.", ["route"]
)
VIEWER_BUILDS = Counter(
    "chaingate_viewer_builds_total",
    "Viewers built because none was kept at the current policy version (auth.viewer_cache), by kind.",
    ["kind"],
)
IMPORT_JOB_DURATION = Histogram(
    "chaingate_import_job_duration_seconds",
    "Wall time of one run of an import job, by kind and outcome (succeeded, failed, crashed).",
    ["kind", "outcome"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if not _GRAPHQL_NAME.fullmatch(name):
        return "invalid"
    return _operation_names(name)


def observe_operation(name: str | None, operation_type: str, seconds: float) -> None:
    label = operation_label(name)
    GRAPHQL_OPERATIONS.labels(label, operation_type).inc()
    GRAPHQL_DURATION.labels(label, operation_type).observe(seconds)


def count_error(code: str) -> None:
    ERRORS.labels(_error_codes(code)).inc()


def observe_http(route: str, method: str, status: int, seconds: float) -> None:
    method = method if method in _KNOWN_METHODS else OTHER
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_DURATION.labels(route).observe(seconds)


def count_viewer_build(kind: str) -> None:
    VIEWER_BUILDS.labels(kind).inc()


def observe_import_job(kind: str, outcome: str, seconds: float) -> None:
    IMPORT_JOB_DURATION.labels(kind, outcome).observe(seconds)


def exposition() -> tuple[bytes, str]:
    """The text format of every metric: this process's, or in multi-process mode all the
    workers' added up (process and platform metrics exist only in single-process mode)."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def prepare_multiprocess_dir(workers: int) -> str | None:
    """Before the workers start: with several of them, a directory where each writes its
    samples (a new temporary one unless PROMETHEUS_MULTIPROC_DIR is set), emptied of the
    samples of a previous run. Returns the directory, or None for one worker without it."""
    configured = os.environ.get(MULTIPROC_ENV)
    if not configured and workers <= 1:
        return None
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        # Only the sample files prometheus-client writes: never anything else in a directory
        # someone chose.
        for stale in path.glob("*.db"):
            stale.unlink()
        return str(path)
    created = tempfile.mkdtemp(prefix="chaingate-metrics-")
    os.environ[MULTIPROC_ENV] = created  # inherited by the worker processes uvicorn starts
    return created
