"""Production never runs on a known secret (issue 12, point 2): outside dev mode, every
command that serves or signs tokens refuses an unset, public or short CHAINGATE_SECRET with
one line saying what to set, and `serve --demo` still starts with no configuration at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from auth.tokens import issue_member_token, issue_person_token
from models.settings import DEV_SECRET, InsecureConfiguration, get_settings
from tests.servers import free_port, running, serve_command

CLI = [sys.executable, "-m", "chaingate_cli.main"]
# Refused before binding: the port is never used.
SIGNING_COMMANDS = {
    "serve": ["serve", "--port", str(free_port())],
    "serve --workers 2": ["serve", "--port", str(free_port()), "--workers", "2"],
    "demo": ["demo"],
    "token person": ["token", "person", "--mobile", "+8613800000001"],
}
KNOWN_SECRETS = {
    "unset": None,
    "the development value": DEV_SECRET,
    "31 bytes": "k" * 31,
    "the development value and a newline": DEV_SECRET + "\n",
    "the development value and a character": DEV_SECRET + "x",
    "31 bytes in whitespace": "   " + "k" * 31 + "   ",
}


def _bare_env(tmp_path: Path, secret: str | None) -> dict[str, str]:
    """What a fresh production host has: no CHAINGATE_DEV, maybe a CHAINGATE_SECRET."""
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite://{tmp_path}/refused.sqlite3"}
    if secret is not None:
        env["CHAINGATE_SECRET"] = secret
    return env


@pytest.mark.parametrize("secret", list(KNOWN_SECRETS.values()), ids=list(KNOWN_SECRETS))
@pytest.mark.parametrize("command", list(SIGNING_COMMANDS.values()), ids=list(SIGNING_COMMANDS))
def test_token_signing_commands_refuse_to_start_on_a_known_secret(tmp_path, command, secret):
    run = subprocess.run(
        CLI + command, cwd=tmp_path, env=_bare_env(tmp_path, secret), capture_output=True, text=True, timeout=120
    )
    assert run.returncode != 0
    assert run.stdout == ""  # no token, no migration, nothing seeded
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert "CHAINGATE_SECRET" in lines[0] and "at least 32 bytes" in lines[0]
    assert not (tmp_path / "refused.sqlite3").exists()  # refused before touching the database


def test_the_refusal_says_what_is_wrong_with_the_secret(tmp_path):
    reasons = {}
    for name, secret in KNOWN_SECRETS.items():
        run = subprocess.run(
            CLI + SIGNING_COMMANDS["token person"], cwd=tmp_path, env=_bare_env(tmp_path, secret),
            capture_output=True, text=True, timeout=120,
        )
        reasons[name] = run.stderr
    assert "is not set" in reasons["unset"]
    assert "is the public development value" in reasons["the development value"]
    assert "is shorter than 32 bytes" in reasons["31 bytes"]
    assert "is the public development value" in reasons["the development value and a newline"]
    assert "is the public development value" in reasons["the development value and a character"]
    assert "is shorter than 32 bytes" in reasons["31 bytes in whitespace"]


def test_the_app_factory_refuses_a_known_secret_whoever_starts_it(tmp_path):
    # `uvicorn web.app:create_app --factory` (and each of `serve --workers N`'s workers)
    # builds the app without the CLI: the app itself refuses.
    run = subprocess.run(
        [sys.executable, "-m", "uvicorn", "web.app:create_app", "--factory", "--port", str(free_port())],
        cwd=Path(__file__).resolve().parents[2], env=_bare_env(tmp_path, DEV_SECRET),
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode != 0
    assert "InsecureConfiguration: CHAINGATE_SECRET is the public development value" in run.stderr


def test_nothing_signs_or_verifies_with_the_development_secret_outside_dev_mode(monkeypatch):
    settings = get_settings()
    token = issue_person_token("+8613800000001")  # the test run's own secret: fine
    monkeypatch.setattr(settings, "secret", DEV_SECRET)
    monkeypatch.setattr(settings, "dev", False)
    from web.app import create_app

    with pytest.raises(InsecureConfiguration):
        issue_member_token(1)
    with pytest.raises(InsecureConfiguration):
        issue_person_token("+8613800000001")
    with pytest.raises(InsecureConfiguration):
        create_app(manage_db=False)
    monkeypatch.setattr(settings, "dev", True)
    assert issue_member_token(1) and create_app(manage_db=False) and token


async def test_serve_demo_starts_with_an_empty_environment(tmp_path):
    port = free_port()
    demo = serve_command(port) + ["--demo"]
    async with running([demo], {}, inherit_env=False, cwd=tmp_path, timeout=180) as [server]:
        async with httpx.AsyncClient() as client:
            graphiql = await client.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
            answer = await client.post(f"{server.url}/graphql", json={"query": "{ viewer { kind } }"})
    assert graphiql.status_code == 200 and "graphiql" in graphiql.text.lower()  # dev mode
    assert answer.json() == {"data": {"viewer": {"kind": "ANONYMOUS"}}}
    assert (tmp_path / "chaingate.sqlite3").exists()  # the demo database, in the working directory
