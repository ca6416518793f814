"""JSON log lines: structlog renders every record, ours and the libraries', as one JSON
object per line, with the fields of the request being served (its `request_id`, and the
GraphQL operation once known).

The standard `logging` module stays the plumbing: existing `logging.getLogger(...)` calls
and uvicorn's own loggers go through `json_formatter()`; `get_logger(name)` gives a
structlog logger (key/value events) over the same plumbing. `chaingate serve` hands
`logging_config()` to uvicorn, which applies it in every worker.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

# The fields of the request being served, as a dict the request's own code may add to: the
# ASGI middleware opens it, the GraphQL layer adds the operation.
_REQUEST_FIELDS: ContextVar[dict[str, Any] | None] = ContextVar("chaingate_request_fields", default=None)


@contextlib.contextmanager
def request_fields(**fields: Any) -> Iterator[dict[str, Any]]:
    """Every log line written while serving this request carries these fields (and what
    `annotate_request` adds later); reset when the request is over."""
    token = _REQUEST_FIELDS.set(dict(fields))
    try:
        current = _REQUEST_FIELDS.get()
        assert current is not None
        yield current
    finally:
        _REQUEST_FIELDS.reset(token)


def annotate_request(**fields: Any) -> None:
    """Add fields to the current request's log lines (no-op outside a request)."""
    current = _REQUEST_FIELDS.get()
    if current is not None:
        current.update({k: v for k, v in fields.items() if v is not None})


def current_request_fields() -> dict[str, Any]:
    return dict(_REQUEST_FIELDS.get() or {})


def add_request_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    for key, value in (_REQUEST_FIELDS.get() or {}).items():
        event_dict.setdefault(key, value)
    return event_dict


def drop_color_message(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """uvicorn adds an ANSI-coloured copy of its messages: noise in a JSON line."""
    event_dict.pop("color_message", None)
    return event_dict


# A log line is for people and log stores: no field carries a whole client-sized value (a
# search string, a variable, an exception message quoting one). Longer text keeps its head
# and its tail (where a traceback names the exception) around a marker.
MAX_LOG_TEXT = 4096
MAX_LOG_EXCEPTION = 16384


def clip(text: str, limit: int = MAX_LOG_TEXT) -> str:
    """`text`, or its head and tail with the number of characters cut between them."""
    if len(text) <= limit:
        return text
    tail = limit // 4
    head = limit - tail
    return f"{text[:head]}…[{len(text) - head - tail} characters cut]…{text[len(text) - tail:]}"


def _clipped(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, dict):
        return {k: _clipped(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clipped(v, limit) for v in value]
    return value


def clip_long_values(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    for key, value in event_dict.items():
        event_dict[key] = _clipped(value, MAX_LOG_EXCEPTION if key in ("exception", "stack") else MAX_LOG_TEXT)
    return event_dict


_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    add_request_fields,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
]


def json_formatter() -> logging.Formatter:
    """One JSON object per line; stdlib records get the same fields as structlog events
    (their `extra=` fields too), exceptions as a `exception` string; long values clipped."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder(), drop_color_message],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            clip_long_values,
            structlog.processors.JSONRenderer(ensure_ascii=False, default=str),
        ],
    )


def _short_line(_: WrappedLogger, __: str, event_dict: EventDict) -> str:
    """One short line for a person at a terminal: `12:50:36 POST /graphql 200 5.1 ms WhoAmI
    member:1` for a request, `12:50:36 info uvicorn.error: Started …` for anything else."""
    clock = str(event_dict.get("ts", ""))[11:19]
    if event_dict.get("logger") == "chaingate.access" and event_dict.get("event") == "request":
        parts = [event_dict.get(k) for k in ("method", "path", "status")]
        parts.append(f"{event_dict.get('duration_ms', '?')} ms")
        parts += [event_dict.get(k) for k in ("operation", "viewer")]
        return " ".join([clock, *(str(p) for p in parts if p is not None)])
    line = f"{clock} {event_dict.get('level', '')} {event_dict.get('logger', '')}: {event_dict.get('event', '')}"
    exception = event_dict.get("exception")
    return f"{line}\n{exception}" if exception else line


def human_formatter() -> logging.Formatter:
    """Short lines for a terminal in dev mode (see `_short_line`); the fields are those of
    `json_formatter`, only fewer are shown."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder(), drop_color_message],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            clip_long_values,
            _short_line,
        ],
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger writing through `logging.getLogger(name)` (no global structlog
    configuration needed, so importing this module changes nothing elsewhere)."""
    logger: structlog.stdlib.BoundLogger = structlog.wrap_logger(
        logging.getLogger(name),
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    return logger


def logging_config(level: str = "INFO", *, human: bool = False) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the server: everything to stderr as JSON lines, or
    as short lines for a person (`human`: `serve` in dev mode at a terminal). uvicorn's
    access log is replaced by our own `chaingate.access` line (it has the request id, the
    route, the GraphQL operation and the viewer)."""
    handler = {"class": "logging.StreamHandler", "formatter": "lines", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"lines": {"()": human_formatter if human else json_formatter}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            # uvicorn's defaults give these handlers of their own; here they go to the root's.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def human_wanted(dev: bool) -> bool:
    """Short lines only for a person: dev mode with stderr on a terminal; JSON otherwise."""
    import sys

    return dev and sys.stderr.isatty()


def configure(level: str = "INFO", *, human: bool = False) -> None:
    """The same lines for a process that is not started by uvicorn (the CLI's long runners,
    such as the worker `serve --demo` starts beside the server)."""
    import logging.config

    logging.config.dictConfig(logging_config(level, human=human))

