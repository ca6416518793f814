"""GraphiQL without a CDN: Strawberry's GraphiQL page, its scripts and styles served by the
gateway itself.

Strawberry's page loads React, GraphiQL and the explorer plugin from unpkg.com, pinned to
exact versions with Subresource Integrity hashes. Deployments behind a firewall (and this
project's CI) cannot reach a CDN, so those exact files are vendored under
`web/static/graphiql/<package>@<version>/<path>` (fetched from the npm registry by
`python scripts/vendor_graphiql.py`, which checks each against the page's integrity hash)
and the page is rewritten to load them from `/graphiql/static/...`. The integrity
attributes stay: the browser still refuses any file that is not the one Strawberry pinned.
When Strawberry moves to new versions, the test of this module fails until the new files
are vendored.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

STATIC_ROUTE = "/graphiql/static"
ASSET_DIR = Path(__file__).resolve().parent / "static" / "graphiql"

_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.DOTALL)
_CDN_URL = re.compile(
    r'(?P<attr>src|href)="(?P<url>https://unpkg\.com/(?P<package>(?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/(?P<path>[^"]+))"'
)
_INTEGRITY = re.compile(r'integrity="(?P<integrity>[^"]+)"')


@dataclass(frozen=True)
class Asset:
    package: str  # name@version, as npm spells it
    path: str  # inside the package
    cdn_url: str
    integrity: str | None

    @property
    def local_path(self) -> Path:
        return ASSET_DIR / self.package / self.path

    @property
    def url(self) -> str:
        return f"{STATIC_ROUTE}/{self.package}/{self.path}"

    def matches(self, content: bytes) -> bool:
        """The content is the file the page pinned (sha256/384/512 integrity)."""
        if self.integrity is None:
            return False
        algorithm, _, expected = self.integrity.partition("-")
        if algorithm not in ("sha256", "sha384", "sha512"):
            return False
        return base64.b64encode(hashlib.new(algorithm, content).digest()).decode() == expected


def cdn_assets(html: str | None = None) -> list[Asset]:
    """The CDN files Strawberry's GraphiQL page loads, with their integrity hashes."""
    html = html if html is not None else get_graphql_ide_html("graphiql")
    found = []
    for tag in _TAG.finditer(html):
        url = _CDN_URL.search(tag.group())
        if url is None:
            continue
        integrity = _INTEGRITY.search(tag.group())
        found.append(Asset(url["package"], url["path"], url["url"], integrity["integrity"] if integrity else None))
    return found


@lru_cache(maxsize=1)
def graphiql_html() -> str:
    """Strawberry's page with every CDN file loaded from this gateway instead."""
    html = get_graphql_ide_html("graphiql")
    for asset in cdn_assets(html):
        html = html.replace(asset.cdn_url, asset.url)
    return html.replace("<title>Strawberry GraphiQL</title>", "<title>chaingate GraphiQL</title>")
