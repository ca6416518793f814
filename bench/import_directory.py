"""Import benchmark: a generated N-row .xlsx imported on SQLite and PostgreSQL.

    python -m bench.import_directory                 # 100 000 directory rows, both databases
    python -m bench.import_directory --rows 20000 --db sqlite
    python -m bench.import_directory --kind chain    # chain contacts (2 per corp)

Each import runs in its own child process on a fresh database, so the peak memory
printed (the child's max RSS) is the import's own: reading the file, validating,
writing. `cpu s` is the CPU time of that child and its file reader (user + system; SQLite
runs inside it, PostgreSQL's server is not counted): on a shared machine it moves less than
the wall-clock seconds. PostgreSQL is taken from DATABASE_URL or 127.0.0.1:5432 (a throw-away database is
created and dropped); it is skipped, saying why, when unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文单"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉"
HEADERS = ["姓名", "账号", "手机", "邮箱", "部门", "职位", "性别", "生日"]
CHAIN_HEADERS = ["联系人姓名", "身份", "手机号", "企业名称", "上下游分组", "自定义企业id"]


def _name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 7) % len(GIVEN)] + GIVEN[(i // 3) % len(GIVEN)]


def generate(rows: int, path: Path, kind: str) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    if kind == "chain":
        sheet.append(CHAIN_HEADERS)
        for i in range(rows):
            corp = i // 2
            sheet.append([_name(i), ("负责人", "成员")[i % 2], f"139{i:08d}", f"供应商{corp:06d}有限公司",
                          f"华{'东南西北'[corp % 4]}->片区{corp % 25}", f"S{corp:06d}"])
        book.save(path)
        return
    sheet.append(HEADERS)
    for i in range(rows):
        sheet.append([
            _name(i), f"user{i:06d}", f"139{i:08d}", f"user{i}@example.com",
            f"事业部{i % 10}->大区{i % 7}->办事处{i % 13}", ("工程师", "经理", "专员")[i % 3],
            ("男", "女")[i % 2], f"19{70 + i % 30}-0{1 + i % 9}-1{i % 10}",
        ])
    book.save(path)


async def child(url: str, file: Path, kind: str) -> dict[str, object]:
    from flows import jobs
    from flows.chain import create_chain_space
    from flows.chain_import import submit_chain_import
    from flows.directory import create_corp
    from flows.directory_import import submit_directory_import
    from flows.identity import ensure_person
    from models import ImportJob, ImportJobError
    from models.db import close_db, init_db
    from models.enums import ImportMode
    from permissions.loading import member_viewer
    from permissions.viewer import Viewer, ViewerKind

    await init_db(url)
    try:
        person = await ensure_person("+8613700000000", "基准管理员")
        admin = await create_corp(Viewer(kind=ViewerKind.PERSON, person_id=person.id), "基准企业")
        viewer = await member_viewer(admin.id)
        assert viewer is not None
        content = file.read_bytes()
        started = time.perf_counter()
        if kind == "chain":
            chain = await create_chain_space(viewer, admin.corp_id, "基准上下游")
            owner = await member_viewer(admin.id)  # now the owner of the new chain
            assert owner is not None
            job = await submit_chain_import(owner, chain.id, file.name, content)
        else:
            job = await submit_directory_import(viewer, admin.corp_id, file.name, content, ImportMode.UPSERT)
        await jobs.run_pending_jobs()
        seconds = time.perf_counter() - started
        job = await ImportJob.get(id=job.id)
        errors = await ImportJobError.filter(job_id=job.id).count()
        return {"seconds": seconds, "status": job.status.value, "counts": job.counts, "errors": errors}
    finally:
        await close_db()


def run_child(label: str, url: str, file: Path, kind: str) -> dict[str, object] | str:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.import_directory", "--child", url, "--file", str(file), "--kind", kind],
        stdout=subprocess.PIPE, text=True,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    output = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        return f"{label}: child failed with status {status}"
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    # The child's own CPU and that of its reaped children (the file reader process).
    result["cpu"] = usage.ru_utime + usage.ru_stime
    return result


async def postgres_url() -> tuple[str, str] | str:
    import asyncpg

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    if not base.startswith("postgres"):
        base = "postgres://postgres@127.0.0.1:5432/test"
    name = f"chaingate_bench_{uuid.uuid4().hex[:8]}"
    try:
        conn = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL skipped: {base} unreachable ({exc.__class__.__name__})"
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return base, f"{base.rpartition('/')[0]}/{name}"


async def drop_postgres(base: str, url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--kind", choices=["directory", "chain"], default="directory")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.child, Path(args.file), args.kind))))
        return

    file = Path(tempfile.gettempdir()) / f"chaingate-bench-{args.kind}-{args.rows}.xlsx"
    if not file.exists():
        started = time.perf_counter()
        generate(args.rows, file, args.kind)
        print(f"generated {file} ({file.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    results: list[tuple[str, dict[str, object] | str]] = []
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(("sqlite", run_child("sqlite", f"sqlite://{tmp}/bench.sqlite3", file, args.kind)))
    if args.db in ("postgres", "both"):
        pg = asyncio.run(postgres_url())
        if isinstance(pg, str):
            results.append(("postgres", pg))
        else:
            try:
                results.append(("postgres", run_child("postgres", pg[1], file, args.kind)))
            finally:
                asyncio.run(drop_postgres(*pg))
    target = "a new chain" if args.kind == "chain" else "an empty corp (UPSERT)"
    print(f"\n{args.kind} import of {args.rows} rows (.xlsx, into {target})")
    print(f"{'database':<10} {'seconds':>8} {'rows/s':>8} {'cpu s':>8} {'peak MB':>8}  outcome")
    for label, r in results:
        if isinstance(r, str):
            print(f"{label:<10} {r}")
            continue
        seconds = float(r["seconds"])  # type: ignore[arg-type]
        print(f"{label:<10} {seconds:>8.1f} {args.rows / seconds:>8.0f} {float(r['cpu']):>8.1f} "  # type: ignore[arg-type]
              f"{float(r['peak_mb']):>8.0f}  "  # type: ignore[arg-type]
              f"{r['status']} {r['counts']} errors={r['errors']}")


if __name__ == "__main__":
    main()
