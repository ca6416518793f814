"""userErrors carry typed codes (SPEC §3 "stable codes"): every code the code base raises is a
member of the UserErrorCode enum (flows.error_codes, one enum per domain), every member is
raised somewhere, and every mutation's description names the right it needs and its codes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from flows.error_codes import DOMAINS
from gql.contracts import CONTRACTS
from gql.errors import UserErrorCode
from gql.schema import Mutation, schema

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("auth", "chaingate_cli", "flows", "gql", "models", "observability", "permissions")
# Exceptions whose first argument is a userError code: FlowError itself, and the table readers'
# FileRefused, which flows.tabular turns into a FlowError with the same code.
CODED = {"FlowError", "FileRefused"}
# Codes given as something other than a literal, each read here: an entry means someone checked
# that every value it can take is a literal this test collects.
REVIEWED = {
    # flows/invitations.py: REFUSALS' values (collected below as a dict of (code, message)).
    "*REFUSALS[state]", "*REFUSALS[InvitationState.EXPIRED]",
    # flows/tabular.py: re-raises a FileRefused (whose codes are collected) as a FlowError.
    "exc.code",
    # flows/directory_import.py: a department text's FlowError, kept once per run and raised
    # again for each row naming the same text (its codes come from _department_paths).
    "known.code",
    # flows/table_reader.py: the reader process's {"error": code} messages, raised again as
    # FileRefused in the parent (their literal codes are collected from that module below).
    "message['error']",
}
# Modules whose {"error": "CODE"} dict literals are codes (the table reader's messages).
ERROR_MESSAGES = {"flows/table_reader.py"}
FIXED = {"NotFound": "NOT_FOUND", "Forbidden": "FORBIDDEN"}


def _sources() -> list[Path]:
    return [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]


def raised_codes(
    paths: list[Path] | None = None, only: ast.AST | None = None
) -> tuple[dict[str, list[str]], list[str]]:
    """Codes raised anywhere (code -> places), and the non-literal code arguments not reviewed;
    `paths` narrows the search to some files, `only` to one node of the (single) file given."""
    codes: dict[str, list[str]] = {}
    unreviewed: list[str] = []
    for path in _sources() if paths is None else paths:
        where = str(path.relative_to(ROOT))
        for node in ast.walk(only or ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name in FIXED:
                    codes.setdefault(FIXED[name], []).append(f"{where}:{node.lineno}")
                if name not in CODED:
                    continue
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    codes.setdefault(first.value, []).append(f"{where}:{node.lineno}")
                elif first is not None and ast.unparse(first) not in REVIEWED:
                    unreviewed.append(f"{where}:{node.lineno}: {ast.unparse(first)}")
            if where in ERROR_MESSAGES and isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "error" and isinstance(value, ast.Constant):
                        codes.setdefault(str(value.value), []).append(f"{where}:{node.lineno}")
            # REFUSALS-style tables: {state: ("CODE", "message")}
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            if any(isinstance(t, ast.Name) and t.id == "REFUSALS" for t in targets):
                assert isinstance(node.value, ast.Dict)  # type: ignore[attr-defined]
                for value in node.value.values:  # type: ignore[attr-defined]
                    assert isinstance(value, ast.Tuple) and isinstance(value.elts[0], ast.Constant)
                    codes.setdefault(str(value.elts[0].value), []).append(f"{where}:{node.lineno}")
    return codes, unreviewed


def test_every_code_raised_is_a_member_of_the_enum():
    codes, unreviewed = raised_codes()
    assert "DUPLICATE_MOBILE" in codes and "INVITATION_EXPIRED" in codes and "FILE_TOO_LARGE" in codes
    assert unreviewed == [], "a code given as an expression: make it a literal, or review it into REVIEWED"
    members = {c.value for c in UserErrorCode}
    assert {code: places for code, places in codes.items() if code not in members} == {}


def test_every_member_of_the_enum_is_raised_somewhere():
    codes, _ = raised_codes()
    assert sorted(c.value for c in UserErrorCode if c.value not in codes) == []


def test_each_code_belongs_to_one_domain_and_the_enum_is_their_union():
    every = [c.value for domain in DOMAINS for c in domain]
    assert len(every) == len(set(every))
    assert sorted(every) == sorted(c.value for c in UserErrorCode)


def test_user_error_code_is_the_enum_in_the_sdl():
    sdl = schema.as_str()
    assert re.search(r"type UserError \{[^}]*code: UserErrorCode!", sdl)


# Codes the static walk below finds on a mutation's path that it cannot return, each with the
# reason (the walk follows every reference and ignores branches, arguments and try/except).
_PROFILE_FIELDS_ONLY = "its GraphQL input carries profile fields only, so clean_profile never meets another"
_JOIN_MEMBER = "flows.chain_places.ensure_member creates the member in the root unit with a generated account"
UNREACHABLE: dict[str, dict[str, str]] = {
    "change_my_mobile": {
        "INVALID_MOBILE": "auth.backend.authenticate turns a token's bad mobile into AuthenticationFailed, "
                          "which the resolver answers with PERSON_TOKEN_INVALID"},
    "create_member": {"UNKNOWN_FIELD": _PROFILE_FIELDS_ONLY},
    "update_member": {
        "UNKNOWN_FIELD": _PROFILE_FIELDS_ONLY,
        "DUPLICATE_ACCOUNT": "flows.members.update_member calls _clash without an account (accounts never change)"},
    "update_my_profile": {
        "UNKNOWN_FIELD": _PROFILE_FIELDS_ONLY,
        "DUPLICATE_ACCOUNT": "flows.members.update_member calls _clash without an account (accounts never change)"},
    "enable_member": {
        "LAST_SUPER_ADMIN": "flows.lifecycle._switch_status checks the last super admin only when leaving ACTIVE"},
    "confirm_chain_members": {
        "UNIT_REQUIRED": _JOIN_MEMBER, "INVALID_ACCOUNT": _JOIN_MEMBER, "UNKNOWN_FIELD": _JOIN_MEMBER},
    "approve_join_request": {
        "UNIT_REQUIRED": _JOIN_MEMBER, "INVALID_ACCOUNT": _JOIN_MEMBER, "UNKNOWN_FIELD": _JOIN_MEMBER},
}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class CallGraph:
    """Top-level functions (and module-level values) of the code base and the names each one refers
    to: an over-approximation of what a mutation's resolver can run (any reference counts as a call).
    Methods and functions reached through objects are not followed."""

    def __init__(self) -> None:
        self.defs: dict[tuple[str, str], ast.AST] = {}
        self.where: dict[tuple[str, str], str] = {}
        self.imported: dict[str, dict[str, tuple[str, str]]] = {}
        self.modules: dict[str, dict[str, str]] = {}
        self.refusals: dict[str, set[str]] = {}
        self.messages: set[str] = set()
        sources = _sources()
        known = {_module(p) for p in sources}
        for path in sources:
            module, where = _module(path), str(path.relative_to(ROOT))
            tree = ast.parse(path.read_text(encoding="utf-8"))
            imported, modules = self.imported.setdefault(module, {}), self.modules.setdefault(module, {})
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.defs[(module, node.name)] = node
                    self.where[(module, node.name)] = where
                elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                    # A module-level table of functions (e.g. flows.profile.CLEANERS) leads to them.
                    for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                        if isinstance(target, ast.Name):
                            self.defs[(module, target.id)] = node.value
                            self.where[(module, target.id)] = where
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    for alias in node.names:
                        target = f"{node.module}.{alias.name}"
                        if target in known:
                            modules[alias.asname or alias.name] = target
                        else:
                            imported[alias.asname or alias.name] = (node.module, alias.name)
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        modules[alias.asname or alias.name] = alias.name
            codes, _ = raised_codes([path])
            if where in ERROR_MESSAGES:
                self.messages |= {c for c, places in codes.items() if any("REFUSALS" not in p for p in places)}
            for node in ast.walk(tree):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                    node, ast.AnnAssign) else []
                if any(isinstance(t, ast.Name) and t.id == "REFUSALS" for t in targets):
                    self.refusals[module] = {e.elts[0].value for e in node.value.values}  # type: ignore[attr-defined]

    def resolve(self, module: str, name: str, depth: int = 0) -> tuple[str, str] | None:
        """The function `name` means in `module` (following imports and re-exports), if it is one."""
        if (module, name) in self.defs:
            return (module, name)
        if depth < 5 and name in self.imported.get(module, {}):
            return self.resolve(*self.imported[module][name], depth=depth + 1)
        return None

    def callees(self, key: tuple[str, str]) -> set[tuple[str, str]]:
        module, found = key[0], set()
        for node in ast.walk(self.defs[key]):
            target = None
            if isinstance(node, ast.Name):
                target = self.resolve(module, node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                alias = self.modules.get(module, {}).get(node.value.id)
                target = self.resolve(alias, node.attr) if alias else None
            if target is not None and target != key:
                found.add(target)
        return found

    def codes(self, module: str, name: str) -> dict[str, str]:
        """Every code the function can raise, directly or through what it refers to (code -> a place)."""
        out: dict[str, str] = {}
        seen, todo = set(), [(module, name)]
        while todo:
            key = todo.pop()
            if key in seen:
                continue
            seen.add(key)
            node = self.defs[key]
            text = ast.unparse(node)
            direct, _ = raised_codes([ROOT / self.where[key]], only=node)
            for code, places in direct.items():
                out.setdefault(code, places[0])
            if "REFUSALS" in text:
                for code in self.refusals.get(key[0], ()):
                    out.setdefault(code, f"{self.where[key]} REFUSALS")
            if "message['error']" in text:
                for code in self.messages:
                    out.setdefault(code, f"{self.where[key]} reader message")
            todo.extend(self.callees(key))
        return out


def test_every_mutation_declares_its_contract():
    fields = Mutation.__strawberry_definition__.fields  # type: ignore[attr-defined]
    undeclared = [f.name for f in fields if f.base_resolver is None or f.base_resolver.wrapped_func not in CONTRACTS]
    assert undeclared == []
    assert len(CONTRACTS) == len(fields)


def test_each_mutation_declares_exactly_the_codes_its_code_path_raises():
    """Static, over-approximating check: every code raised on the resolver's path (minus the
    reviewed UNREACHABLE ones) is declared, and every declared code is raised on that path."""
    graph = CallGraph()
    undeclared, unraised = {}, {}
    for resolver, contract in CONTRACTS.items():
        name = resolver.__name__
        declared = {c.value for c in contract.codes}
        raised = graph.codes(resolver.__module__, name)
        reviewed = UNREACHABLE.get(name, {})
        assert not set(reviewed) & declared, f"{name}: a code both declared and reviewed as unreachable"
        assert set(reviewed) <= set(raised), f"{name}: an UNREACHABLE entry the walk no longer finds"
        extra = {code: place for code, place in raised.items() if code not in declared and code not in reviewed}
        if extra:
            undeclared[name] = extra
        if declared - set(raised):
            unraised[name] = sorted(declared - set(raised))
    assert undeclared == {}, "codes a mutation's flows raise that its declaration (gql/schema.py) omits"
    assert unraised == {}, "declared codes nothing on the mutation's path raises"


def test_each_mutation_says_its_right_and_codes():
    mutation = schema._schema.mutation_type
    assert mutation is not None
    members = {c.name for c in UserErrorCode}
    wrong = {}
    for name, field in mutation.fields.items():
        text = field.description or ""
        found = re.search(r" Right: (.+)\. Codes: ([A-Z_, ]+)\.$", text)
        if found is None:
            wrong[name] = "no 'Right: … Codes: …' at the end of its description"
            continue
        unknown = [c for c in found.group(2).split(", ") if c not in members]
        if unknown:
            wrong[name] = f"codes outside UserErrorCode: {unknown}"
    assert wrong == {}
