"""`chaingate import` end to end, as an operator runs it: a fresh SQLite file, the demo, a CSV."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import openpyxl

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
    # The job succeeded, but a row was refused: a script running the import must see it.
    assert result.returncode == 3, result.stderr
    assert "SUCCEEDED" in result.stdout and "row 3 [手机] MOBILE_NOT_TEXT" in result.stdout
    assert report.exists() and report.stat().st_size > 0
    refused = run(["import", str(source), "--corp", "1", "--mode", "REPLACE"], env)
    assert refused.returncode == 2 and "CONFIRMATION_REQUIRED" in refused.stderr

    # The report, its refused cell fixed in a spreadsheet, imports as it is.
    book = openpyxl.load_workbook(report)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[-2:] == ["原行号 row", "错误原因 reason"]
    [row] = [r for r in sheet.iter_rows(min_row=2) if r[header.index("账号")].value == "cli_b"]
    row[header.index("手机")].value = "13800138000"
    book.save(report)
    again = run(["import", str(report), "--corp", "1"], env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "REPORT_COLUMNS_IGNORED" in again.stdout and "原行号 row" in again.stdout
    assert "MOBILE_NOT_TEXT" not in again.stdout
    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        members = db.execute("SELECT account, mobile FROM member WHERE account LIKE 'cli_%' ORDER BY account").fetchall()
    assert members == [("cli_a", "+8613600136000"), ("cli_b", "+8613800138000")]

    # A file the job cannot read at all: the job FAILED, exit status 1.
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("姓名,账号,什么\n甲,cli_c,x\n", encoding="utf-8")
    failed = run(["import", str(unknown), "--corp", "1"], env)
    assert failed.returncode == 1 and "FAILED" in failed.stdout and "UNKNOWN_COLUMN" in failed.stdout
