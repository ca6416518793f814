"""`chaingate serve --demo --port N` as a newcomer runs it, in a terminal: the links the API
hands out point at the server that was started (or at CHAINGATE_PUBLIC_URL), each token
prints on a line of its own, answers show Chinese as Chinese, and the log in a terminal is
short lines that start without a "shutdown"."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import factories as f
from tests.servers import ROOT, child_database_url, free_port, running, serve_command
from web.qr import qr_png

JWT = re.compile(r"^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$")
INVITE = """
mutation($chain: ID!) { createInvitation(input: {chainId: $chain}) { invitation { code url qrCodeUrl } userErrors { code } } }
"""
LINKS = "{ viewer { member { name } corp { exportUrl chainSpaces { id } } } }"


@contextlib.contextmanager
def demo_in_a_terminal(cwd: Path, port: int) -> Iterator[tuple[list[str], list[str]]]:
    """`serve --demo` with stdout read line by line and stderr on a pseudo-terminal (80
    columns), as in a person's shell; yields (stdout lines, terminal text chunks)."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items()
           if k not in ("CHAINGATE_PUBLIC_URL", "CHAINGATE_DEV", "CHAINGATE_SECRET", "DATABASE_URL", "REDIS_URL")}
    env.update(COLUMNS="80", TERM="xterm", PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "chaingate_cli.main", "serve", "--demo", "--port", str(port)],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=slave, text=True,
    )
    os.close(slave)
    out: list[str] = []
    terminal: list[str] = []

    def read_stdout() -> None:
        assert process.stdout is not None
        out.extend(line.rstrip("\n") for line in process.stdout)

    def read_terminal() -> None:
        # Drained all along: a full terminal buffer would block the server's writes.
        with contextlib.suppress(OSError):
            while chunk := os.read(master, 4096):
                terminal.append(chunk.decode(errors="replace"))

    readers = [threading.Thread(target=read_stdout, daemon=True), threading.Thread(target=read_terminal, daemon=True)]
    for r in readers:
        r.start()
    try:
        yield out, terminal
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for r in readers:
            r.join(timeout=5)
        assert process.stdout is not None
        process.stdout.close()
        os.close(master)


def wait_ready(url: str, out: list[str], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    pytest.fail("serve --demo did not start:\n" + "\n".join(out[-30:]))


def test_serve_demo_on_another_port_hands_out_links_to_itself_and_copyable_tokens(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with demo_in_a_terminal(tmp_path, port) as (out, terminal):
        wait_ready(base, out)
        tokens = [line for line in out if JWT.match(line)]
        assert len(tokens) == 4, "\n".join(out)  # super admin, scoped member, supplier member, person
        curls = [line for line in out if line.startswith("curl ")]
        assert len(curls) == 4 and all(line.startswith(f"curl -s {base}/graphql ") for line in curls)
        admin = {"Authorization": f"Bearer {tokens[0]}"}
        with httpx.Client(base_url=base, headers=admin, timeout=30) as http:
            me = http.post("/graphql", json={"query": LINKS})
            assert "王建国".encode() in me.content and b"\\u" not in me.content  # Chinese as Chinese
            corp = me.json()["data"]["viewer"]["corp"]
            assert corp["exportUrl"].startswith(f"{base}/corps/")
            assert http.get(corp["exportUrl"]).status_code == 200
            chain = corp["chainSpaces"][0]["id"]
            invitation = http.post("/graphql", json={"query": INVITE, "variables": {"chain": chain}}).json()
            links = invitation["data"]["createInvitation"]["invitation"]
            assert links["url"] == f"{base}/join/{links['code']}"
            assert links["qrCodeUrl"] == f"{base}/invitations/{links['code']}/qr.png"
            # The QR code holds the join link on this port: the very image made from that link.
            assert http.get(links["qrCodeUrl"]).content == qr_png(links["url"])
            page = http.get(links["url"])
            assert page.status_code == 200 and "华东精密供应链" in page.text
        time.sleep(0.5)  # the access line of the last request
    log = "".join(terminal)
    assert "Tortoise-ORM shutdown" not in log.split("Application startup complete")[0]
    # In a terminal in dev mode: short lines, not JSON objects.
    access = [line for line in log.splitlines() if " POST /graphql 200 " in line]
    assert access and not any(line.lstrip().startswith("{") for line in log.splitlines()), log
    assert all(len(line) < 120 for line in access), access


async def test_links_follow_chaingate_public_url_when_it_is_set(database):
    owner, root = await f.corp()
    admin = await f.super_admin(root)
    chain, _ = await f.chain_space(owner)
    public = "https://gate.example.com/api"
    env = {"DATABASE_URL": child_database_url(), "CHAINGATE_PUBLIC_URL": public, "REDIS_URL": ""}
    async with running([serve_command(free_port())], env) as [server]:
        async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {f.token(admin)}"}) as http:
            body = (await http.post("/graphql", json={"query": INVITE, "variables": {"chain": f.gid("ChainSpace", chain.id)}})).json()
            corp = (await http.post("/graphql", json={"query": LINKS})).json()["data"]["viewer"]["corp"]
        # JSON log lines when stderr is no terminal; none says "shutdown" while starting.
        started = server.log_lines()
    links = body["data"]["createInvitation"]["invitation"]
    assert links["url"] == f"{public}/join/{links['code']}"
    assert links["qrCodeUrl"] == f"{public}/invitations/{links['code']}/qr.png"
    assert corp["exportUrl"] == f"{public}/corps/{f.gid('Corp', owner.id)}/directory.xlsx"
    assert started and all(line.startswith("{") for line in started)
    assert not any("Tortoise-ORM shutdown" in line for line in started)
