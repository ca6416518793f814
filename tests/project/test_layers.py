"""The layers import downward only (README "Layout"): every import in the code base, module-level
or inside a function, is read here and one that reaches up a layer fails, so the diagram stays
true. Known exceptions are listed, with their reason, in ALLOWED, which only shrinks."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Top to bottom: a module may import its own layer and the layers below it.
LAYERS = (
    "chaingate_cli",  # the command line: starts servers, workers, imports
    "web",            # HTTP: the ASGI app, middleware and the REST endpoints
    "gql",            # the Strawberry schema
    "auth",           # bearer tokens in, a Viewer out
    "flows",          # what mutations do, over models
    "permissions",    # the policy engine
    "models",         # Tortoise models, settings, database set-up
    "observability",  # logs and metrics, below everything
)
# Every layer is a top-level package of its own.
PACKAGES = set(LAYERS)

# (importing file, imported module) pairs that reach up, each with why it is still here.
ALLOWED = {
    # A data migration fills the pinyin search columns with the same rule the flows write them
    # with (flows.names.search_keys); the rule belongs below models or in the migration itself.
    ("models/migrations/0008_search.py", "flows.names"),
}


def module_file(dotted: str) -> str | None:
    """The repository path of a first-party module, or None for a package or anything else."""
    path = ROOT / (dotted.replace(".", "/") + ".py")
    return str(path.relative_to(ROOT)) if path.is_file() else None


def reaches_up(package: str, dotted: str) -> bool:
    """Whether a module of `package` importing module `dotted` imports a layer above its own."""
    return LAYERS.index(dotted.split(".")[0]) < LAYERS.index(package)


def imports(path: Path) -> list[str]:
    """The first-party modules a file imports (`from a.b import c` names a.b.c when c is a module)."""
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                out.append(child if module_file(child) else node.module)
    return [m for m in out if m.split(".")[0] in PACKAGES]


def upward_imports() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for package in sorted(PACKAGES):
        for path in sorted((ROOT / package).rglob("*.py")):
            here = str(path.relative_to(ROOT))
            for dotted in imports(path):
                if reaches_up(package, dotted):
                    found.add((here, dotted))
    return found


def test_no_layer_imports_a_layer_above_it():
    assert sorted(upward_imports() - ALLOWED) == []


def test_the_allowed_list_holds_only_imports_that_still_exist():
    # A fixed exception leaves the list: it only shrinks.
    assert sorted(ALLOWED - upward_imports()) == []


def test_the_check_sees_an_upward_import():
    # The reader itself: gql (the schema) importing the HTTP app would be caught, and so would
    # flows importing auth, were either written.
    assert reaches_up("gql", "web.app")
    assert reaches_up("flows", "auth.tokens")
    assert not reaches_up("web", "gql.schema")
    assert not reaches_up("gql", "gql.context")
    # Every layer is a directory of modules, so none is read as empty after a typo or a move.
    assert [p for p in LAYERS if not any((ROOT / p).glob("*.py"))] == []
    assert "flows.names" in imports(ROOT / "models/migrations/0008_search.py")


# --- permissions/: one facts reader, pure rules ------------------------------------------
# permissions/loading.py is the only module of the policy engine that reads the database; the
# rules (scope.py, chain.py, fields.py, ...) are pure functions of a Viewer and facts. A rule
# may render itself as SQL (a Q, a Subquery, a lazy queryset its caller runs), never run it.
FACTS_READER = "permissions/loading.py"
# Calls that run a query or reach a connection, whatever they are called on.
RUNS_A_QUERY = {
    "bulk_create", "bulk_update", "execute_insert", "execute_many", "execute_query",
    "execute_query_dict", "execute_script", "exists", "fetch_related", "first", "get_connection",
    "get_or_create", "get_or_none", "in_transaction", "refresh_from_db", "select_for_update",
    "update_or_create",
}
# Manager calls that read or write rows when made on a model class.
MODEL_READS = {"all", "count", "create", "delete", "get", "save", "update"}


def model_names() -> set[str]:
    """The model classes `models` exports (the names a manager call is made on)."""
    import models

    return {n for n in dir(models) if n[:1].isupper()}


def _receiver(node: ast.expr) -> str | None:
    """The name a chain of attribute calls starts from (`A.filter(x).values` -> "A")."""
    while True:
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Name):
            return node.id
        else:
            return None


def database_reads(source: str, models_: set[str]) -> list[str]:
    """Why `source` (a module's text) touches the database: each `await`, `async` construct,
    query-running call, and manager call on a model (in `models_`), with its line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Await, ast.AsyncFunctionDef, ast.AsyncFor, ast.AsyncWith)):
            found.append(f"{node.lineno}: {type(node).__name__}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if name in RUNS_A_QUERY:
                found.append(f"{node.lineno}: {name}()")
            elif isinstance(func, ast.Attribute) and name in MODEL_READS and _receiver(func.value) in models_:
                found.append(f"{node.lineno}: {_receiver(func.value)}...{name}()")
    return found


def test_only_the_facts_reader_reads_the_database():
    models_ = model_names()
    found = {
        str(path.relative_to(ROOT)): reads
        for path in sorted((ROOT / "permissions").rglob("*.py"))
        if str(path.relative_to(ROOT)) != FACTS_READER
        and (reads := database_reads(path.read_text(encoding="utf-8"), models_))
    }
    assert found == {}
    assert database_reads((ROOT / FACTS_READER).read_text(encoding="utf-8"), models_)


def test_the_purity_check_sees_a_read():
    models_ = {"Member", "OrgUnit"}
    assert database_reads("async def f():\n    return await g()\n", models_) == ["1: AsyncFunctionDef", "2: Await"]
    assert database_reads("def f():\n    return Member.get(id=1)\n", models_) == ["2: Member...get()"]
    assert database_reads("def f(q):\n    return q.filter(a=1).first()\n", models_) == ["2: first()"]
    assert database_reads("def f():\n    return OrgUnit.filter(a=1).count()\n", models_) == ["2: OrgUnit...count()"]
    # Rendering a rule as SQL is not a read, nor a dict's get.
    assert database_reads("def f(d):\n    return Q(id__in=Subquery(Member.filter(a=1).values('id'))), d.get(1)\n",
                          models_) == []


# --- tests/ mirrors the packages -----------------------------------------------------------
# A test module lives in the folder of the package it tests (tests/flows/ for flows/, ...), or
# in tests/project/ when it checks the whole code base; tests/ itself keeps only the shared
# helpers (conftest.py, factories.py, ...).
PROJECT_TESTS = "project"


def misplaced_tests() -> list[str]:
    """The test modules under tests/ outside a folder named after a layer or project/."""
    tests = ROOT / "tests"
    return sorted(
        str(path.relative_to(tests))
        for path in tests.rglob("test_*.py")
        if len(path.relative_to(tests).parts) != 2 or path.parent.name not in {*LAYERS, PROJECT_TESTS}
    )


def test_each_test_module_lives_in_its_package_folder():
    assert misplaced_tests() == []
    # Each folder is a package of its own (test modules import each other by dotted path).
    assert sorted(p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and not (p / "__init__.py").is_file()
                  and any(p.glob("test_*.py"))) == []
