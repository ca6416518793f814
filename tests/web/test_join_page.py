"""The join page (GET /join/{code}) where invitation links and QR codes lead: a real page for a
phone, opened in headless Chromium like GraphiQL, with its own pages for dead and unknown
codes, every user-given name escaped.

The browser test keeps a screenshot of the page: under pytest's tmp_path, and at
CHAINGATE_JOIN_SCREENSHOT when set (CI keeps it as an artefact)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from models import Invitation, Member
from models.enums import MemberStatus
from tests import factories as f
from tests.servers import child_database_url, free_port, running, uvicorn_command
from tests.web.test_graphiql_browser import chromium

EVIL = "<script>alert('链')</script>&"


async def evil_chain():
    owner, root = await f.corp("华东<b>精密</b>")
    admin = await f.super_admin(root, name=f"王{EVIL}")
    chain, groot = await f.chain_space(owner)
    chain.name = f"供应链{EVIL}"
    await chain.save()
    dealers = await f.group(groot, "经销商<i>华东</i>")
    return owner, admin, chain, dealers


async def test_the_join_page_shows_an_invitation_on_a_phone_in_a_real_browser(database, tmp_path):
    executable = chromium()
    from playwright.async_api import async_playwright

    owner_corp, admin, chain, dealers = await evil_chain()
    inv = await f.invitation(chain, admin, dealers)
    env = {"DATABASE_URL": child_database_url(), "CHAINGATE_DEV": "1", "REDIS_URL": ""}
    async with running([uvicorn_command(free_port())], env) as [server]:
        requested: list[str] = []
        dialogs: list[str] = []
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            try:
                # A phone's screen: 390 × 844 CSS pixels.
                context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
                page = await context.new_page()
                page.on("request", lambda request: requested.append(request.url))
                page.on("dialog", lambda dialog: dialogs.append(dialog.message))
                response = await page.goto(f"{server.url}/join/{inv.code}", wait_until="networkidle")
                assert response is not None and response.status == 200
                title = await page.locator("#title").inner_text()
                inviter = await page.locator("#inviter").inner_text()
                owner = await page.locator("#owner").inner_text()
                group = await page.locator("#group").inner_text()
                valid = await page.locator("#valid time").get_attribute("datetime")
                steps = await page.locator("#next").inner_text()
                rules = await page.locator("#rules").inner_text()
                qr_width = await page.locator(".qr img").evaluate("img => img.naturalWidth")
                # Nothing wider than the phone: no sideways scrolling.
                overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                shot = tmp_path / "join-page.png"
                await page.screenshot(path=str(shot), full_page=True)
                if os.environ.get("CHAINGATE_JOIN_SCREENSHOT"):
                    shutil.copy(shot, os.environ["CHAINGATE_JOIN_SCREENSHOT"])
                dead = await page.goto(f"{server.url}/join/no-such-code", wait_until="networkidle")
                assert dead is not None and dead.status == 404
                unknown_title = await page.locator("#title").inner_text()
            finally:
                await browser.close()
    # The names are shown as the users typed them: text, never markup.
    assert title == f"邀请你加入「供应链{EVIL}」"
    assert owner_corp.name.startswith("华东<b>精密</b>")
    assert inviter == f"王{EVIL}（{owner_corp.name}）" and owner == owner_corp.name
    assert group == "经销商<i>华东</i>"
    assert valid is not None and datetime.fromisoformat(valid) > datetime.now(UTC) + timedelta(days=6)
    assert inv.code in steps and "手机号" in steps
    assert "超级管理员审批" in rules and "新建企业" in rules and "链主企业本身不能" in rules
    assert dialogs == [] and qr_width > 0 and overflow <= 0
    assert shot.stat().st_size > 0
    assert unknown_title == "找不到这个邀请"
    hosts = {urlsplit(url).netloc for url in requested if urlsplit(url).scheme in ("http", "https")}
    assert hosts == {urlsplit(server.url).netloc}, f"the page reached out to {hosts}"


async def test_expired_revoked_and_unknown_codes_get_pages_of_their_own(client):
    _, admin, chain, dealers = await evil_chain()
    live = await f.invitation(chain, admin, dealers)
    expired = await f.invitation(chain, admin)
    await Invitation.filter(id=expired.id).update(created_at=datetime.now(UTC) - timedelta(days=8))
    revoked = await f.invitation(chain, admin, revoked_at=datetime.now(UTC))
    pages = {name: await client.get(f"/join/{code}") for name, code in
             [("live", live.code), ("expired", expired.code), ("revoked", revoked.code), ("unknown", "nope"),
              ("too long", "x" * 65)]}
    assert {name: r.status_code for name, r in pages.items()} == {
        "live": 200, "expired": 410, "revoked": 410, "unknown": 404, "too long": 404,
    }
    for r in pages.values():
        assert r.headers["content-type"].startswith("text/html")
        assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none': no script
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "<script>" not in r.text and "<b>" not in r.text and "<i>" not in r.text
    assert "邀请已过期" in pages["expired"].text and "邀请已撤回" in pages["revoked"].text
    assert "找不到这个邀请" in pages["unknown"].text
    assert "&lt;script&gt;alert(&#x27;链&#x27;)&lt;/script&gt;&amp;" in pages["live"].text
    # Once its creator has left the corp, the invitation is dead too, with its own reason.
    await Member.filter(id=admin.id).update(status=MemberStatus.RESIGNED)
    gone = await client.get(f"/join/{live.code}")
    assert gone.status_code == 410 and "离开" in gone.text


async def test_a_personal_notification_code_opens_a_page_without_personal_details(client):
    owner, admin, chain, dealers = await evil_chain()
    place = await f.imported_place(dealers, "秘密企业名")
    contact = await f.imported_contact(place, "秘密联系人")
    page = await client.get(f"/join/{contact.join_code}")
    assert page.status_code == 200
    assert "邀请你加入「供应链&lt;script&gt;" in page.text
    assert "秘密企业名" not in page.text and "秘密联系人" not in page.text and contact.mobile not in page.text
    assert "qr.png" not in page.text  # personal codes have no QR code


async def test_the_join_page_draws_on_the_request_budget(database):
    from auth.ratelimit import InMemoryRateLimiter, RateRule
    from web.app import create_app
    from web.gate import Budgets

    one = RateRule(0.001, 1)
    app = create_app(manage_db=False, limiter=InMemoryRateLimiter(), budgets=Budgets(one, one, one))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        assert (await c.get("/join/a")).status_code == 404
        assert (await c.get("/join/b")).status_code == 429
