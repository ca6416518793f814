"""The command line answers a user's mistake with one line saying what is wrong, never a
traceback (a missing file, an unknown corp, a bad id), takes the global ids the API hands
out, and makes a fresh member token without re-seeding (`chaingate token member`)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from tests import factories as f
from tests.chaingate_cli.test_cli_import import run

CSV = "姓名,账号,手机\n命令行丙,cli_c,13600136001\n"


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("cli")
    env = {**os.environ, "DATABASE_URL": f"sqlite://{tmp}/cli.sqlite3", "CHAINGATE_SECRET": "y" * 40, "COLUMNS": "120"}
    env.pop("CHAINGATE_DEV", None)
    assert run(["demo"], env).returncode == 0
    return env


def refused(args: list[str], env: dict[str, str]) -> str:
    result = run(args, env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    return " ".join(result.stderr.split())


def test_cli_user_mistakes_get_one_line_never_a_traceback(demo_env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text(CSV, encoding="utf-8")
    assert "Cannot read" in refused(["import", str(tmp_path / "missing.csv"), "--corp", "1"], demo_env)
    assert "No such corp: 424242" in refused(["import", str(source), "--corp", "424242"], demo_env)
    assert "No such corp" in refused(["import", str(source), "--corp", f.gid("Corp", 424242)], demo_env)
    assert "is not a Corp id" in refused(["import", str(source), "--corp", "华东"], demo_env)
    # A member's id where a corp's is wanted is a bad id, not some other corp.
    assert "is not a Corp id" in refused(["import", str(source), "--corp", f.gid("Member", 1)], demo_env)
    assert "is no active member of corp 1" in refused(["import", str(source), "--corp", "1", "--as", "999"], demo_env)
    assert "is not a Member id" in refused(["token", "member", "--member", "x"], demo_env)
    assert "no such member: 999" in refused(["token", "member", "--member", "999"], demo_env)


def test_cli_takes_global_ids_and_issues_a_fresh_member_token(demo_env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text(CSV, encoding="utf-8")
    imported = run(["import", str(source), "--corp", f.gid("Corp", 1), "--as", f.gid("Member", 1)], demo_env)
    assert imported.returncode == 0 and "SUCCEEDED" in imported.stdout, imported.stderr
    issued = run(["token", "member", "--member", f.gid("Member", 1)], demo_env)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert "\n" not in token
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["typ"] == "member" and claims["mid"] == 1
    assert "member 1" in issued.stderr
