"""GraphiQL in a real headless Chromium: the page loads every file from the gateway itself
(no CDN: Strawberry's pinned files, vendored, integrity-checked by the browser), a person
types a bearer token into the headers editor, runs a query, and reads the answer.

Chromium is Debian's (`apt-get install chromium`, which .ci/run does), driven by
Playwright with `executable_path`: Playwright never downloads a browser here."""

from __future__ import annotations

import json
import os
import shutil
from urllib.parse import quote, urlencode, urlsplit

import httpx

from tests import factories as f
from tests.servers import child_database_url, free_port, running, skip_or_fail, uvicorn_command
from web.graphiql import ASSET_DIR, cdn_assets, graphiql_html

QUERY = "query WhoAmI { viewer { kind member { name } } }"
SCREENSHOT = os.environ.get("CHAINGATE_GRAPHIQL_SCREENSHOT")  # set to keep a picture of the result


def chromium() -> str:
    path = os.environ.get("CHAINGATE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        skip_or_fail("Chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
    assert path is not None
    return path


def test_every_file_the_page_loads_is_vendored_and_is_the_one_strawberry_pinned():
    assets = cdn_assets()
    assert {a.package.rsplit("@", 1)[0] for a in assets} >= {"react", "react-dom", "graphiql"}
    for asset in assets:
        assert asset.local_path.is_file(), (
            f"{asset.package}/{asset.path} is not vendored: run python scripts/vendor_graphiql.py"
        )
        assert asset.matches(asset.local_path.read_bytes()), f"{asset.local_path} is not the pinned file"
    html = graphiql_html()
    assert "unpkg.com" not in html and "jsdelivr" not in html
    assert all(f'"{a.url}"' in html and f'integrity="{a.integrity}"' in html for a in assets)
    # Nothing vendored that the page does not use (old versions are removed on upgrade).
    used = {a.local_path for a in assets}
    vendored = {p for p in ASSET_DIR.rglob("*") if p.is_file() and p.name != "LICENSE"}
    assert vendored == used, sorted(str(p.relative_to(ASSET_DIR)) for p in vendored - used)


async def test_graphiql_runs_a_query_with_a_bearer_token_typed_into_its_headers_editor(database):
    executable = chromium()
    from playwright.async_api import async_playwright

    corp, root = await f.corp()
    member = await f.member([root], name="浏览器测试员")
    token = f.token(member)
    env = {"DATABASE_URL": child_database_url(), "CHAINGATE_DEV": "1", "REDIS_URL": ""}
    async with running([uvicorn_command(free_port())], env) as [server]:
        async with httpx.AsyncClient() as http:
            page_html = await http.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
        assert page_html.status_code == 200 and "<title>chaingate GraphiQL</title>" in page_html.text

        requested: list[str] = []
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            try:
                context = await browser.new_context(viewport={"width": 1400, "height": 900})
                page = await context.new_page()
                page.on("request", lambda request: requested.append(request.url))
                failures: list[str] = []
                page.on("pageerror", lambda exc: failures.append(str(exc)))
                # The query comes in the page's shareable URL (which it decodes with
                # decodeURIComponent: %20, not +); the token is typed by hand.
                shared = urlencode({"q": QUERY}, quote_via=quote)
                await page.goto(f"{server.url}/graphql?{shared}", wait_until="networkidle")
                await page.wait_for_selector(".graphiql-execute-button", timeout=20_000)
                await page.get_by_role("button", name="Headers").click()
                headers_editor = page.locator(".graphiql-editor-tool .graphiql-editor").last
                await headers_editor.click()
                await page.keyboard.press("Control+A")
                await page.keyboard.type(json.dumps({"Authorization": f"Bearer {token}"}))
                await page.click(".graphiql-execute-button")
                result = page.locator(".result-window")
                await result.get_by_text("浏览器测试员").wait_for(timeout=20_000)
                answer = await result.inner_text()
                if SCREENSHOT:
                    await page.screenshot(path=SCREENSHOT)
            finally:
                await browser.close()
    assert '"kind": "MEMBER"' in answer and "浏览器测试员" in answer
    assert failures == []
    hosts = {urlsplit(url).netloc for url in requested if urlsplit(url).scheme in ("http", "https")}
    assert hosts == {urlsplit(server.url).netloc}, f"the page reached out to {hosts}"
    assert any("/graphiql/static/graphiql@" in url for url in requested)
