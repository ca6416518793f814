"""Persisted queries: a safelist of GraphQL documents that frontend teams ship with their
builds, and callers that may run nothing else.

The manifest (`CHAINGATE_PERSISTED_QUERIES=path`) is a JSON object from the lowercase hex
SHA-256 of each document's exact UTF-8 text to that text; `chaingate persisted build`
writes it from `.graphql` files. A request names a document by its hash, Apollo style,
`{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "…"}}}`, or as
`{"id": "…"}` (both also as GET parameters), with `variables` and `operationName` as usual.

- A hash the manifest does not hold is refused with `PERSISTED_QUERY_NOT_FOUND` (whoever
  asks: a free caller's Apollo client then resends the full text with the hash).
- A request carrying both a document and a hash must agree (sha256 of the text).
- `CHAINGATE_PERSISTED_ONLY=APP,PERSON`: those viewer kinds may run only documents of the
  manifest, by hash or as their exact text; anything else is refused with
  `PERSISTED_QUERY_REQUIRED`. Decided in the schema, so it holds on every transport
  (HTTP GET and POST, and subscriptions over websockets, where the text is sent).

The manifest is read again when the file changes (its modification time or size), so a
deploy can replace it (atomically, as `persisted build` writes it) without a restart.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gql.protection.errors import BAD_REQUEST, PERSISTED_QUERY_NOT_FOUND, PERSISTED_QUERY_REQUIRED
from gql.protection.viewers import viewer_of
from models.settings import Settings, get_settings
from permissions.viewer import Viewer, ViewerKind

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class ManifestError(ValueError):
    """The manifest or the persisted-query settings are unusable (refused at start-up)."""


def document_hash(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Manifest:
    documents: Mapping[str, str]

    def get(self, sha256: str) -> str | None:
        return self.documents.get(sha256)

    def holds(self, document: str) -> bool:
        return self.documents.get(document_hash(document)) == document


def parse_manifest(data: Any, source: str = "manifest") -> Manifest:
    if not isinstance(data, dict):
        raise ManifestError(f"{source}: expected a JSON object of sha256 -> document")
    for key, document in data.items():
        if not isinstance(document, str) or not _SHA256_HEX.fullmatch(key):
            raise ManifestError(f"{source}: {key!r} is not a lowercase hex sha256 mapped to a document string")
        if document_hash(document) != key:
            raise ManifestError(f"{source}: the document under {key} does not hash to it (edited by hand?)")
    return Manifest(dict(data))


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError(f"cannot read the persisted-query manifest {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ManifestError(f"{path}: not JSON ({exc})") from exc
    return parse_manifest(data, str(path))


@lru_cache(maxsize=4)
def _manifest_version(path: str, mtime_ns: int, size: int) -> Manifest:
    return read_manifest(path)


def current_manifest(settings: Settings | None = None) -> Manifest | None:
    """The configured manifest as it is on disk now; None when none is configured."""
    path = (settings or get_settings()).persisted_queries
    if not path:
        return None
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise ManifestError(f"cannot read the persisted-query manifest {path}: {exc.strerror or exc}") from exc
    return _manifest_version(path, stat.st_mtime_ns, stat.st_size)


def persisted_only_kinds(settings: Settings | None = None) -> frozenset[ViewerKind]:
    return _parse_kinds((settings or get_settings()).persisted_only)


@lru_cache(maxsize=8)
def _parse_kinds(text: str) -> frozenset[ViewerKind]:
    names = [n.strip().upper() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ViewerKind.__members__]
    if unknown:
        raise ManifestError(
            f"CHAINGATE_PERSISTED_ONLY: unknown viewer kind(s) {', '.join(unknown)}; "
            f"use {', '.join(ViewerKind.__members__)}"
        )
    return frozenset(ViewerKind[n] for n in names)


def check_configuration(settings: Settings) -> None:
    """At start-up: a broken manifest or an unknown viewer kind stops the server, rather
    than refusing every persisted request later."""
    kinds = persisted_only_kinds(settings)
    if kinds and not settings.persisted_queries:
        raise ManifestError("CHAINGATE_PERSISTED_ONLY needs a manifest: set CHAINGATE_PERSISTED_QUERIES")
    current_manifest(settings)


def must_use_persisted(viewer: Viewer) -> bool:
    return viewer.kind in persisted_only_kinds()


# --- resolving a request's document ----------------------------------------------------


class PersistedQueryRefused(Exception):
    def __init__(self, error: GraphQLError) -> None:
        super().__init__(error.message)
        self.error = error


def _refusal(message: str, code: str) -> PersistedQueryRefused:
    return PersistedQueryRefused(GraphQLError(message, extensions={"code": code}))


def requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The sha256 the request names (`extensions.persistedQuery`), None when it names none."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise _refusal("`extensions.persistedQuery` must be {\"version\": 1, \"sha256Hash\": \"<hex>\"}.", BAD_REQUEST)
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256):
        raise _refusal("`sha256Hash` must be the 64 lowercase hex digits of a SHA-256.", BAD_REQUEST)
    return sha256


def with_id_as_extension(extensions: dict[str, Any] | None, ident: Any) -> dict[str, Any]:
    """`{"id": "<sha256>"}` is the same request as the Apollo-style extension."""
    if not isinstance(ident, str):
        raise _refusal("`id` must be the sha256 of a persisted query, as a string.", BAD_REQUEST)
    return {**(extensions or {}), "persistedQuery": {"version": 1, "sha256Hash": ident}}


def resolve_document(query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
    """The document to run: the request's own text, or the manifest's under the named hash."""
    sha256 = requested_hash(extensions)
    if sha256 is None:
        return query
    if query is not None:
        if document_hash(query) != sha256:
            raise _refusal("`sha256Hash` is not the SHA-256 of the query sent with it.", BAD_REQUEST)
        return query
    try:
        manifest = current_manifest()
    except ManifestError as exc:
        # Replaced by a broken file while serving: a fault on our side, masked and logged.
        unreadable = GraphQLError("The persisted-query manifest is unreadable.", original_error=exc)
        raise PersistedQueryRefused(unreadable) from exc
    document = manifest.get(sha256) if manifest is not None else None
    if document is None:
        raise _refusal(
            f"Unknown persisted query {sha256}: it is not in this gateway's safelist.", PERSISTED_QUERY_NOT_FOUND
        )
    return document


class PersistedQueryPolicy(SchemaExtension):
    """Viewer kinds bound to the safelist run its documents only. Checked before the
    query limits and graphql-core's validation: a refused document is never measured or
    validated."""

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.pre_execution_errors is None and must_use_persisted(viewer_of(ec.context)):
            manifest = current_manifest()
            if ec.query is None or manifest is None or not manifest.holds(ec.query):
                ec.pre_execution_errors = [
                    GraphQLError(
                        "This caller may run persisted queries only: send the sha256 of a document of the "
                        "safelist (extensions.persistedQuery or id).",
                        extensions={"code": PERSISTED_QUERY_REQUIRED},
                    )
                ]
        yield


# --- building the manifest (`chaingate persisted build`) --------------------------------


@dataclass(frozen=True)
class BuiltDocument:
    path: Path
    sha256: str
    operations: tuple[str, ...]


class BuildError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


DOCUMENT_SUFFIXES = (".graphql", ".gql")


def collect_documents(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The files to persist: every .graphql/.gql file under each directory (sorted), and
    each file named explicitly."""
    files: list[Path] = []
    problems = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in DOCUMENT_SUFFIXES)
            if not found:
                problems.append(f"{path}: no .graphql or .gql files in this directory")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or directory")
    return list(dict.fromkeys(files)), problems


def build_manifest(paths: list[Path], schema: Any) -> tuple[dict[str, str], list[BuiltDocument]]:
    """One document per file, its exact text, checked as the gateway would check it:
    it parses, validates against `schema` (a GraphQLSchema), stays within the query limits,
    and names each of its operations (the names label the metrics). Raises BuildError
    listing every problem of every file; nothing is half-built."""
    from graphql import GraphQLSyntaxError, OperationDefinitionNode, parse, validate

    from gql.protection.limits import DEFAULT_LIMITS, first_exceeded, measure

    files, problems = collect_documents(paths)
    manifest: dict[str, str] = {}
    built = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{file}: cannot be read as UTF-8 ({exc})")
            continue
        try:
            document = parse(text)
        except GraphQLSyntaxError as exc:
            where = f":{exc.locations[0].line}:{exc.locations[0].column}" if exc.locations else ""
            problems.append(f"{file}{where}: {exc.message}")
            continue
        errors = validate(schema, document)
        problems.extend(f"{file}: {e.message}" for e in errors)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if not operations:
            problems.append(f"{file}: no operation (only fragments): a client could not run it")
        if any(o.name is None for o in operations):
            problems.append(f"{file}: name each operation (query Name {{ … }}): the names label the metrics")
        if not errors:
            exceeded = first_exceeded(measure(schema, document, {}), DEFAULT_LIMITS)
            if exceeded is not None:
                problems.append(f"{file}: the gateway would refuse it: {exceeded.message}")
        sha256 = document_hash(text)
        manifest[sha256] = text
        built.append(BuiltDocument(file, sha256, tuple(o.name.value for o in operations if o.name)))
    if problems:
        raise BuildError(problems)
    return manifest, built


def write_manifest(manifest: Mapping[str, str], output: Path) -> None:
    """Written whole, then renamed into place: a running gateway that re-reads the file
    never sees half of it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(dict(sorted(manifest.items())), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, output)
