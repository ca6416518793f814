"""One road to governed rows (NetBox's pattern): gql/ and web/ read a governed model only through
permissions.restricted.restricted (lists) or flows.access (one object by id), never with
Model.filter/get/all/raw of its own, save the few reads allowed below, each with its reason.

Reads the source (ast); runs no query.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import flows.access
from gql.schema import NODE_RESOLVERS
from permissions.restricted import RULES

ROOT = Path(__file__).resolve().parents[2]
# The packages that answer requests: the schema (gql/) and the HTTP endpoints beside it (web/).
READERS = ("gql", "web")

# The models whose rows the leak matrix governs (every node type), and the child tables read
# only through one of them (a unit's seats, a chain's rules, a job's errors, a subscription's
# deliveries, a person's identities).
GOVERNED = frozenset({
    "Member", "OrgUnit", "Corp", "ChainSpace", "ChainGroup", "ChainCorp", "ChainContact", "Invitation",
    "JoinRequest", "ImportJob", "AppToken", "AuditEvent", "WebhookSubscription",
    "Placement", "ChainRule", "ImportJobError", "WebhookDelivery", "Person",
})

# The calls that are the entry points themselves.
# The entry points themselves, and a type test (reads nothing).
NOT_READS = frozenset({"restricted", "rule", "isinstance"})

# (file, enclosing function, model) -> why this read needs no restricted(): each reads rows the
# viewer was already shown to see, or is how that is decided, or is the key the caller holds.
ALLOWED: dict[tuple[str, str, str], str] = {
    # Per-request loaders: raw rows by id, which the visible_* loaders beside them pass through
    # the in-memory twin of each rule (can_see_member, can_see_unit, can_see_chain_corp...).
    ("gql/directory/loaders.py", "DirectoryLoaders.__init__", "Member"): "member_raw, filtered by _visible_member",
    ("gql/directory/loaders.py", "DirectoryLoaders._corp_rows.read", "Corp"): "corp rows for visible_corp's check",
    ("gql/directory/loaders.py", "_seats_query", "Placement"): "seats of members already loaded; "
    "their units pass can_see_unit in visible_units",
    ("gql/directory/loaders.py", "DirectoryLoaders._unit_rows", "OrgUnit"): "unit rows for visible_units' check",
    ("gql/chain/loaders.py", "ChainLoaders.__init__", "ChainSpace"): "chain_raw, filtered by _visible_chain",
    ("gql/chain/loaders.py", "ChainLoaders.__init__", "ChainGroup"): "group_raw, filtered by _visible_group",
    ("gql/chain/loaders.py", "ChainLoaders.__init__", "ChainCorp"): "chain_corp_raw, filtered by _visible_chain_corp",
    ("gql/chain/loaders.py", "ChainLoaders.__init__", "ChainContact"): "contact_raw, filtered by _visible_contact",
    ("gql/chain/loaders.py", "ChainLoaders._visible_chain_corp", "ChainCorp"): "facts for can_see_chain_corp",
    ("gql/chain/loaders.py", "ChainLoaders._visible_contact", "ChainContact"): "facts for can_see_contact",
    # Narrowing conditions ANDed onto a restricted() query, or its count's one-row carrier.
    ("gql/directory/types.py", "members_listed", "Placement"): "seats of one unit, narrowing restricted(Member)",
    ("gql/directory/types.py", "members_listed", "Corp"): "the one-row carrier of the count parts (reads no column)",
    ("gql/directory/types.py", "OrgUnitNode.leaders", "Placement"): "leader seats of a visible unit, narrowing "
    "the restricted member list",
    ("gql/directory/types.py", "CorpNode.chain_spaces", "ChainCorp"): "places of a visible corp, narrowing "
    "restricted(ChainSpace)",
    ("gql/directory/search.py", "_on_member_columns", "Member"): "a match test, ANDed onto restricted(Member)",
    ("gql/directory/search.py", "_seated_in", "Placement"): "seats in visible units, ANDed onto restricted(Member)",
    ("gql/directory/search.py", "_name_contains", "Member"): "a long term's name test on the members its "
    "first pieces name, ANDed onto restricted(Member)",
    ("gql/directory/types.py", "CorpNode.search_members", "Corp"): "the one-row carrier of a department "
    "match's count parts (reads no column)",
    ("gql/directory/types.py", "CorpNode.search_members", "OrgUnit"): "names the table of a department match's "
    "units, already read through restricted(OrgUnit), for ids_written_in (reads no row)",
    ("gql/directory/search.py", "position_contains", "Member"): "which of the corp's position values contain the "
    "filter's text, one holder each: the values become a match test ANDed onto restricted(Member), as "
    "contains_text is; no row reaches the viewer",
    # Rows under a parent the viewer sees, or under a field ShownOnlyTo already decided.
    ("gql/chain/types.py", "ChainSpaceNode.rules", "ChainRule"): "ShownOnlyTo(can_read_rules) on the field",
    ("gql/chain/types.py", "ChainSpaceNode.contacts.make", "ChainSpace"): "the count's carrier: the row of the chain "
        "node being resolved (already visible), read to carry totalCount's parts in one statement",
    ("gql/chain/types.py", "ChainSpaceNode.corps", "ChainSpace"): "the count's carrier, as for contacts",
    ("gql/imports/types.py", "ImportJobNode.error_count", "ImportJobError"): "errors of a job access_import_job gave",
    ("gql/imports/types.py", "ImportJobNode.errors", "ImportJobError"): "errors of a job access_import_job gave",
    ("gql/imports/types.py", "ImportJobNode.report_url", "ImportJobError"): "errors of a visible job",
    ("gql/feed/webhook_types.py", "WebhookSubscriptionNode.deliveries", "WebhookDelivery"): "log of a visible "
    "subscription",
    ("gql/chain/invitation_types.py", "invitation_nodes", "Member"): "creators' status of visible invitations "
    "(never shown as a member)",
    ("gql/chain/invitation_types.py", "invitation_nodes", "ChainSpace"): "chains of visible invitations",
    ("gql/chain/joining_types.py", "join_request_nodes", "ChainContact"): "contacts of visible join requests",
    ("gql/chain/joining_types.py", "join_request_nodes", "ChainSpace"): "chain names of visible join requests",
    ("gql/feed/queries.py", "_changes", "ChainGroup"): "paths of groups named by feed events, for could_see",
    # The caller's own identity (a person token reads the person and the corps it belongs to).
    ("gql/auth/queries.py", "ViewerInfo.mobile", "Person"): "the caller's own person",
    ("gql/auth/queries.py", "ViewerInfo.identities", "Person"): "the caller's own person",
    ("gql/auth/queries.py", "ViewerInfo.identities", "Corp"): "names of the corps of the caller's own members",
    # Column widths from the models' metadata, at import (no query).
    ("gql/protection/arguments.py", "", "AuditEvent"): "ARGUMENT_CAPS: _column() reads field metadata",
    ("gql/protection/arguments.py", "", "ChainCorp"): "ARGUMENT_CAPS: _column() reads field metadata",
    # Keyed by a secret the caller holds: an invitation code (SPEC §3.3, §3.4).
    ("web/qr.py", "invitation_qr", "Invitation"): "the invitation whose code the caller holds",
    ("web/qr.py", "invitation_qr", "Member"): "its creator's name on the code's own QR page",
    ("gql/chain/joining_types.py", "join_preview", "Corp"): "the owner of the chain the caller's code opens",
    # Partner-app status lookups (SPEC §3.6): chain.can_query_status decides, on the chain's owner.
    ("gql/chain/queries.py", "_status_chain", "ChainSpace"): "the owner can_query_status is decided on",
    ("gql/chain/queries.py", "ChainQuery.chain_corp_by_custom_id", "ChainCorp"): "after can_query_status",
    ("gql/chain/queries.py", "ChainQuery.chain_member_by_mobile", "ChainContact"): "after can_query_status",
}


def _model_names(tree: ast.Module) -> dict[str, str]:
    """Local name -> governed model name, from `from models... import X [as Y]`."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "models":
            for alias in node.names:
                if alias.name in GOVERNED:
                    names[alias.asname or alias.name] = alias.name
    return names


def governed_reads(source: str) -> Iterator[tuple[str, str, int]]:
    """(enclosing function's qualified name, model, line) of each call that reads a governed
    model outside the entry points: `Model.anything(...)`, or the model handed to a call."""
    tree = ast.parse(source)
    models = _model_names(tree)

    def model_of(expr: ast.expr) -> str | None:
        return models.get(expr.id) if isinstance(expr, ast.Name) else None

    def visit(node: ast.AST, scope: tuple[str, ...]) -> Iterator[tuple[str, str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield from visit(child, (*scope, child.name))
                continue
            if isinstance(child, ast.Call):
                func = child.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if isinstance(func, ast.Attribute) and (model := model_of(func.value)):
                    yield ".".join(scope), model, child.lineno
                if called not in NOT_READS:
                    for arg in child.args:
                        if model := model_of(arg):
                            yield ".".join(scope), model, child.lineno
            yield from visit(child, scope)

    yield from visit(tree, ())


def _found() -> dict[tuple[str, str, str], list[int]]:
    found: dict[tuple[str, str, str], list[int]] = {}
    for path in sorted(p for package in READERS for p in (ROOT / package).rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        for where, model, line in governed_reads(path.read_text(encoding="utf-8")):
            found.setdefault((rel, where, model), []).append(line)
    return found


def test_requests_read_governed_models_only_through_the_entry_points():
    found = _found()
    outside = [f"{f}:{lines[0]} {where}() reads {model}" for (f, where, model), lines in found.items()
               if (f, where, model) not in ALLOWED]
    assert outside == [], "start from permissions.restricted.restricted or flows.access, or allow it here with why"


def test_every_allowed_read_still_exists():
    found = _found()
    assert [key for key in ALLOWED if key not in found] == []


@pytest.mark.parametrize("source", [
    "from models import Member\nasync def f(v):\n    return await Member.filter(corp_id=1)\n",
    "from models import Member as M\nclass T:\n    def f(self):\n        return M.all()\n",
    "from models.chain import JoinRequest\nasync def f():\n    return await JoinRequest.get_or_none(id=1)\n",
    "from models import Corp\ndef f():\n    return by_id_loader(Corp)\n",
    "from models import OrgUnit\ndef f():\n    return OrgUnit.raw('SELECT 1')\n",
])
def test_the_check_sees_each_way_round_the_entry_point(source: str):
    assert list(governed_reads(source)), source


def test_the_entry_points_themselves_pass():
    source = (
        "from models import Member\nfrom permissions.restricted import restricted\n"
        "async def f(v):\n    return await restricted(Member, v).filter(corp_id=1)\n"
    )
    assert list(governed_reads(source)) == []


def test_every_node_type_has_an_access_helper():
    """Zulip's pattern: one access_<thing>(viewer, id) per governed model, all in flows.access."""
    snake = {name: "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_") for name in NODE_RESOLVERS}
    aliases = {"org_unit": "unit", "chain_group": "chain_group", "chain_contact": "chain_contact"}
    missing = [n for n, s in snake.items() if not hasattr(flows.access, f"access_{aliases.get(s, s)}")]
    assert missing == []


def test_every_list_model_has_a_rule():
    listed = {"Member", "OrgUnit", "Corp", "ChainSpace", "ChainGroup", "ChainCorp", "ChainContact", "Invitation",
              "JoinRequest", "AuditEvent", "AppToken", "WebhookSubscription"}
    assert {m.__name__ for m in RULES} == listed
