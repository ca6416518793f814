"""The join page: GET /join/{code}, where an invitation link and its QR code lead.

A small server-rendered HTML page for a phone (no script, no CDN, styles inline): the
chain, who invites, into which group, until when, and what to do next, with the rules that
decide which corp identity the person joins as (SPEC §3.4). Expired, revoked and unknown
codes get pages of their own (410, 410, 404). Like the QR code, the page needs no token:
the code is the secret, and a personal notification code shows nothing personal.

Every value on the page comes from users (chain, corp and member names): each one is
HTML-escaped as it goes into a template (only our own fixed fragments are not), and the
page's CSP allows no script.
"""

from __future__ import annotations

import html
from datetime import timedelta, timezone
from string import Template

from starlette.requests import Request
from starlette.responses import HTMLResponse

from flows.invitations import InvitationState, Landing, landing

# Chinese users read Beijing time; the page says so.
BEIJING = timezone(timedelta(hours=8))

HEADERS = {
    "Cache-Control": "no-store",
    # The code is in the URL: never send it on to another site.
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}

_LAYOUT = Template("""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>$title</title>
<style>
  body { margin: 0; font: 16px/1.6 -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif;
         background: #f4f6f8; color: #1f2933; }
  main { max-width: 32rem; margin: 0 auto; padding: 1.25rem; }
  .card { background: #fff; border-radius: 12px; padding: 1.25rem; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
  h1 { font-size: 1.35rem; margin: 0 0 .75rem; line-height: 1.35; word-break: break-word; }
  h2 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; }
  dl { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: .35rem .9rem; }
  dt { color: #52606d; } dd { margin: 0; word-break: break-word; }
  ol, ul { padding-left: 1.3rem; margin: .25rem 0; } li { margin: .3rem 0; }
  code { background: #eef2f6; padding: .1rem .35rem; border-radius: 4px; word-break: break-all; }
  .notice { border-left: 4px solid #c2410c; padding-left: .75rem; }
  .qr { text-align: center; margin-top: 1rem; } .qr img { width: 12rem; height: 12rem; }
  small { color: #52606d; }
</style>
</head>
<body><main><div class="card">
$body
</div>
<p><small>chaingate · 上下游通讯录</small></p>
</main></body>
</html>
""")

_ACTIVE = Template("""<h1 id="title">邀请你加入「$chain」</h1>
<dl>
  <dt>邀请人</dt><dd id="inviter">$inviter</dd>
  <dt>链主企业</dt><dd id="owner">$owner</dd>
  <dt>加入分组</dt><dd id="group">$group</dd>
  <dt>有效期至</dt><dd id="valid"><time datetime="$expires_iso">$expires</time>（北京时间）</dd>
</dl>
<h2>下一步</h2>
<ol id="next">
  <li>在手机上打开 chaingate 应用（或企业使用的对接应用），用<strong>接收邀请的手机号</strong>登录。</li>
  <li>打开本链接或扫描二维码，邀请码：<code>$code</code>。应用会先告诉你以哪个企业身份加入，确认后加入。</li>
</ol>
<h2>以哪个企业身份加入</h2>
<ul id="rules">
$rules
</ul>
$qr""")

_RULES_IMPORTED = """  <li>你被链主导入到某个企业名下时：若该企业已加入本链（按自定义企业 ID 或企业名称匹配），你以该企业身份加入；你还不是它的成员时，需该企业超级管理员审批。</li>
  <li>导入的企业名称是你所在的企业之一时，以该企业身份加入。</li>
  <li>其他情况：选择你所在的一个企业，或新建企业（默认使用导入时的企业名称）。</li>
  <li>被导入为<strong>成员</strong>时：等本企业第一位加入的负责人确认即可。</li>"""
_RULE_OPEN = """  <li>未被导入时：选择你所在的一个企业，或新建一个企业（你成为它的超级管理员）。</li>"""
_RULE_IMPORT_ONLY = """  <li>本链只接受链主导入的企业：未被导入的手机号不能通过邀请加入。</li>"""
_RULE_OWNER = """  <li>链主企业本身不能作为下游企业加入。</li>"""

_DEAD = Template("""<h1 id="title">$title</h1>
<p class="notice" id="reason">$reason</p>
$chain
<h2>下一步</h2>
<p id="next">$next</p>""")

_DEAD_PAGES: dict[InvitationState, tuple[str, str, str]] = {
    InvitationState.EXPIRED: (
        "邀请已过期", "这个邀请链接已经过了有效期。", "请联系邀请人，或你的上下游对接人，重新获取邀请。"
    ),
    InvitationState.REVOKED: (
        "邀请已撤回", "邀请人已撤回这个邀请链接。", "如仍需加入，请联系链主企业获取新的邀请。"
    ),
    InvitationState.CREATOR_RESIGNED: (
        "邀请已失效", "创建这个邀请的人已离开其企业，邀请随之失效。", "请联系链主企业获取新的邀请。"
    ),
}


def _page(title: str, body: str) -> str:
    return _LAYOUT.substitute(title=html.escape(title), body=body)


def active_page(code: str, facts: Landing) -> str:
    e = html.escape
    inviter = facts.inviter_corp_name if facts.inviter_name is None else f"{facts.inviter_name}（{facts.inviter_corp_name}）"
    rules = [_RULES_IMPORTED, _RULE_IMPORT_ONLY if facts.import_only else _RULE_OPEN, _RULE_OWNER]
    qr = "" if facts.personal else (
        f'<div class="qr"><img src="/invitations/{e(code)}/qr.png" alt="邀请二维码"><br>'
        "<small>在电脑上打开时，用手机扫码</small></div>"
    )
    expires = facts.expires_at.astimezone(BEIJING)
    body = _ACTIVE.substitute(
        chain=e(facts.chain_name), inviter=e(inviter), owner=e(facts.owner_name),
        group=e(facts.group_name or "整个上下游（由邀请人或链主分组）"),
        expires_iso=e(facts.expires_at.isoformat()), expires=e(expires.strftime("%Y-%m-%d %H:%M")),
        code=e(code), rules="\n".join(rules), qr=qr,
    )
    return _page(f"加入「{facts.chain_name}」", body)


def dead_page(facts: Landing) -> str:
    title, reason, next_step = _DEAD_PAGES[facts.state]
    chain = f'<p id="chain">上下游：{html.escape(facts.chain_name)}（链主：{html.escape(facts.owner_name)}）</p>'
    return _page(title, _DEAD.substitute(title=html.escape(title), reason=html.escape(reason), chain=chain,
                                         next=html.escape(next_step)))


def unknown_page() -> str:
    body = _DEAD.substitute(
        title="找不到这个邀请", reason=html.escape("这个链接里的邀请码不存在，可能复制时不完整。"), chain="",
        next=html.escape("请检查链接是否完整，或联系邀请人重新发送。"),
    )
    return _page("找不到这个邀请", body)


async def join_page(request: Request) -> HTMLResponse:
    code = str(request.path_params["code"])
    facts = await landing(code)
    if facts is None:
        return HTMLResponse(unknown_page(), status_code=404, headers=HEADERS)
    if facts.state is not InvitationState.ACTIVE:
        return HTMLResponse(dead_page(facts), status_code=410, headers=HEADERS)
    return HTMLResponse(active_page(code.strip(), facts), headers=HEADERS)
