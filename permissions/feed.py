"""The change feed's policy cut (SPEC §3.9): whether a viewer could see an object at a sync
token's position, and when a token no longer describes what the viewer may see.

A token is honoured only while (a) the feed epoch it was issued under holds (no scope,
field-setting, grant, rule, tree or app-scope write since: migration 0010's epoch triggers)
and (b) the viewer's own standing is unchanged (its fingerprint: units, grants, scopes,
chain places). So between the token and now the viewer's rights are the same, and whether it
could see an object at the token's position is the current policy applied to the object's
facts at that position — the `before` facts of the object's first change row after it.
`removed` is emitted only for objects that pass that test: invisible ≡ nonexistent holds
for ids the viewer never could see (they never appear, not even as removed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from models.enums import ChainCorpStatus, ContactStatus, MemberStatus
from permissions import chain, scope
from permissions.facts import ChainCorpFacts, ContactFacts, MemberFacts, UnitFacts
from permissions.members import can_see_member
from permissions.viewer import Viewer

# Fields a change may name, per object type (the API fields of the node): changedFields never
# names anything else, and never a field withheld from the viewer (the node's hiddenFields).
REPORTED_FIELDS = {
    "MEMBER": frozenset({"name", "alias", "mobile", "email", "wechatId", "telephone", "gender", "position",
                         "address", "birthday", "hireDate", "status", "departments"}),
    "UNIT": frozenset({"name", "order", "parent", "scope", "depth"}),
    "CHAIN_CORP": frozenset({"status", "group", "corp", "customCorpId", "importedName"}),
    "CONTACT": frozenset({"name", "mobile", "role", "status", "member", "chainCorp"}),
}


def viewer_fingerprint(viewer: Viewer) -> str:
    """A digest of everything the Viewer was resolved to (units, scope views, grants, app
    scopes, chain standing), leaving out the token's own id: a new token of the same viewer
    keeps its feed, a change of the viewer's standing resyncs it."""
    # Viewer fields are sorted tuples and frozensets (see loading): equal Viewers repr alike,
    # except frozensets, which are sorted here.
    plain = replace(viewer, token_id=None, kept=None)
    return hashlib.sha256(_stable(plain).encode()).hexdigest()[:24]


def _stable(value: Any) -> str:
    if isinstance(value, frozenset | set):
        return "{" + ",".join(sorted(_stable(v) for v in value)) + "}"
    if isinstance(value, tuple | list):
        return "(" + ",".join(_stable(v) for v in value) + ")"
    if hasattr(value, "__dataclass_fields__"):
        return type(value).__name__ + "(" + ",".join(
            f"{k}={_stable(getattr(value, k))}" for k in value.__dataclass_fields__) + ")"
    return repr(value)


def serves_corp_feed(viewer: Viewer, corp_id: int) -> bool:
    """Corp.changes serves the viewer's own corp directory (members and apps of the corp).
    A chain partner keeps in sync through ChainSpace.changes: across corps a member is
    reached through chain contacts, whose changes are that feed's."""
    return viewer.directory is not None and viewer.directory.corp_id == corp_id


def serves_chain_feed(viewer: Viewer, chain_id: int) -> bool:
    """ChainSpace.changes serves whoever may see the chain (permissions.chain.can_see_chain)."""
    return chain.can_see_chain(viewer, chain_id)


def feeds_served(viewer: Viewer) -> list[tuple[str, int]]:
    """The feeds the viewer is served, as ("corp", corp id) and ("chain", chain id): what an
    app token's webhooks follow."""
    out = [("corp", viewer.directory.corp_id)] if viewer.directory is not None else []
    return out + sorted(("chain", a.chain_id) for a in viewer.chains if serves_chain_feed(viewer, a.chain_id))


def could_see(viewer: Viewer, object_type: str, object_id: int, feed_id: int, before: Mapping[str, Any] | None,
              group_paths: Mapping[int, str]) -> bool:
    """Whether the viewer could see the object in the state `before` (the facts a change row
    recorded; None: the object did not exist). `feed_id`: the corp (MEMBER, UNIT) or chain
    (CHAIN_CORP, CONTACT). `group_paths`: chain group id -> path, for the groups named."""
    if before is None:
        return False
    if object_type == "MEMBER":
        facts = MemberFacts(
            id=object_id, corp_id=feed_id, status=MemberStatus(before["s"]), hidden=bool(before["h"]),
            unit_paths=tuple(sorted((before.get("u") or "").split())),
        )
        return can_see_member(viewer, facts)
    if object_type == "UNIT":
        return scope.can_see_unit(viewer, UnitFacts(object_id, feed_id, before["p"]))
    if object_type == "CHAIN_CORP":
        corp = _corp_facts(object_id, feed_id, before.get("s"), before.get("g"), group_paths)
        return corp is not None and chain.can_see_chain_corp(viewer, corp)
    if object_type == "CONTACT":
        corp = _corp_facts(before.get("c"), feed_id, before.get("cs"), before.get("g"), group_paths)
        if corp is None or before.get("s") is None:
            return False
        # "ms": the linked member's status at that position (rows written before migration 0015
        # lack it: the member then counts as listed).
        ms = before.get("ms")
        contact = ContactFacts(object_id, ContactStatus(before["s"]), before.get("m"), corp,
                               MemberStatus(ms) if ms is not None else None)
        return chain.can_see_contact(viewer, contact)
    return False


def _corp_facts(corp_id: Any, chain_id: int, status: Any, group_id: Any,
                group_paths: Mapping[int, str]) -> ChainCorpFacts | None:
    # A fact missing (the corp or group already gone) means the viewer is not told about it.
    if corp_id is None or status is None or group_id is None or int(group_id) not in group_paths:
        return None
    return ChainCorpFacts(int(corp_id), chain_id, ChainCorpStatus(status), int(group_id), group_paths[int(group_id)])


def group_ids_named(befores: list[Mapping[str, Any] | None]) -> set[int]:
    """The chain group ids that change rows' `before` facts name (key "g"), to load their paths once."""
    return {int(b["g"]) for b in befores if b is not None and b.get("g") is not None}
