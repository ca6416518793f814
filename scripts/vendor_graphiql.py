"""Vendor the files Strawberry's GraphiQL page loads from a CDN into web/static/graphiql/.

    python scripts/vendor_graphiql.py

Each file comes from its npm package (`npm pack name@version`, from the npm registry, the
same bytes unpkg serves) and is written only when it matches the page's integrity hash.
Run it after upgrading strawberry-graphql when tests/web/test_graphiql_browser.py says the
page pins files that are not vendored; remove the directories of old versions.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from web.graphiql import ASSET_DIR, cdn_assets  # noqa: E402


def _pack(spec: str, into: Path) -> Path:
    out = subprocess.run(
        ["npm", "pack", "--json", "--pack-destination", str(into), spec], check=True, capture_output=True, text=True
    )
    return into / json.loads(out.stdout)[0]["filename"]


def main() -> int:
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        tarballs: dict[str, Path] = {}
        for asset in cdn_assets():
            if asset.package not in tarballs:
                tarballs[asset.package] = _pack(asset.package, Path(tmp))
            with tarfile.open(tarballs[asset.package]) as tar:
                member = tar.extractfile(f"package/{asset.path}")
                content = member.read() if member is not None else b""
            if not asset.matches(content):
                print(f"MISMATCH {asset.package}/{asset.path}: not the file the page pins ({asset.integrity})")
                failed += 1
                continue
            asset.local_path.parent.mkdir(parents=True, exist_ok=True)
            asset.local_path.write_bytes(content)
            print(f"ok {asset.local_path.relative_to(ASSET_DIR)} ({len(content)} bytes)")
        for package, tarball in tarballs.items():
            _copy_license(tarball, ASSET_DIR / package)
    return 1 if failed else 0


def _copy_license(tarball: Path, into: Path) -> None:
    """The package's licence travels with its files (all of these are MIT)."""
    with tarfile.open(tarball) as tar:
        for name in tar.getnames():
            if name.split("/", 1)[1].upper() in ("LICENSE", "LICENSE.MD", "LICENSE.TXT"):
                member = tar.extractfile(name)
                if member is not None:
                    (into / "LICENSE").write_bytes(member.read())
                return


if __name__ == "__main__":
    sys.exit(main())
