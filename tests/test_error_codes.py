"""userErrors carry typed codes (SPEC §3 "stable codes"): every code the code base raises is a
member of the UserErrorCode enum (flows.error_codes, one enum per domain), every member is
raised somewhere, and every mutation's description names the right it needs and its codes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from flows.error_codes import DOMAINS
from gql.errors import UserErrorCode
from gql.schema import schema

ROOT = Path(__file__).resolve().parent.parent
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


def raised_codes() -> tuple[dict[str, list[str]], list[str]]:
    """Codes raised anywhere (code -> places), and the non-literal code arguments not reviewed."""
    codes: dict[str, list[str]] = {}
    unreviewed: list[str] = []
    for path in _sources():
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
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
