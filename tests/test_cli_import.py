"""`chaingate import` end to end, as an operator runs it: a fresh SQLite file, the demo, a CSV."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CSV = "姓名,账号,手机,部门\n命令行甲,cli_a,13600136000,命令行部->一组\n命令行乙,cli_b,1.38E+10,命令行部\n"


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaingate_cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=300)


def test_cli_import_reports_counts_row_errors_and_writes_the_report(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite://{tmp_path}/cli.sqlite3", "CHAINGATE_SECRET": "x" * 40,
           "COLUMNS": "120"}
    assert run(["demo"], env).returncode == 0
    source = tmp_path / "people.csv"
    source.write_text(CSV, encoding="utf-8")
    report = tmp_path / "errors.xlsx"
    result = run(["import", str(source), "--corp", "1", "--report", str(report)], env)
    assert result.returncode == 0, result.stderr
    assert "SUCCEEDED" in result.stdout and "row 3 [手机] MOBILE_NOT_TEXT" in result.stdout
    assert report.exists() and report.stat().st_size > 0
    refused = run(["import", str(source), "--corp", "1", "--mode", "REPLACE"], env)
    assert refused.returncode == 2 and "CONFIRMATION_REQUIRED" in refused.stderr
