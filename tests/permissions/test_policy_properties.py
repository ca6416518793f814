"""Property tests: for random corps and chains, each rule's SQL filter selects exactly the
rows its in-memory check accepts (SPEC §2, "the two evaluators must agree")."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from models import ChainContact, ChainCorp, ChainGroup, Corp, Member, OrgUnit
from models.enums import AdminKind, AdminRight, ChainCorpStatus, ContactStatus, MemberStatus, Scope
from permissions import chain, corps, scope
from permissions.corps import can_see_corp
from permissions.facts import GroupFacts, UnitFacts
from permissions.loading import chain_corp_facts, contact_facts, member_facts, member_viewer, selector_corps
from permissions.members import can_see_member, visible_members_q
from tests import factories as f

SCOPES = list(Scope)


@st.composite
def corp_shapes(draw):
    n_units = draw(st.integers(1, 12))
    units = []  # (parent index or None, scope, whitelist idx, exclude idx)
    depth = [0]
    for i in range(1, n_units):
        parent = draw(st.sampled_from([j for j in range(i) if depth[j] < 5]))
        depth.append(depth[parent] + 1)
        units.append((parent, draw(st.sampled_from(SCOPES))))
    root_scope = draw(st.sampled_from([Scope.ALL, Scope.INHERIT, Scope.DEPARTMENT, Scope.SUBDEPARTMENT]))
    lists = [
        (
            draw(st.lists(st.integers(0, n_units - 1), max_size=2)),
            draw(st.lists(st.integers(0, n_units - 1), max_size=2)),
        )
        for _ in range(n_units)
    ]
    members = draw(
        st.lists(
            st.tuples(
                st.lists(st.integers(0, n_units - 1), min_size=1, max_size=3, unique=True),
                st.sampled_from(list(MemberStatus)),
                st.booleans(),
            ),
            min_size=1,
            max_size=10,
        )
    )
    viewer = draw(st.integers(0, len(members) - 1))
    admin = draw(st.sampled_from(["none", "super", "directory"]))
    ranges = draw(st.lists(st.integers(0, n_units - 1), min_size=1, max_size=2, unique=True))
    return n_units, root_scope, units, lists, members, viewer, admin, ranges


async def build_corp(shape):
    n_units, root_scope, units, lists, members, viewer_idx, admin, ranges = shape
    corp, root = await f.corp()
    root.scope = root_scope
    await root.save(update_fields=["scope"])
    nodes = [root]
    for parent, s in units:
        nodes.append(await f.unit(nodes[parent], scope=s))
    for node, (wl, ex) in zip(nodes, lists, strict=False):
        node.scope_whitelist = [nodes[i].id for i in wl]
        node.scope_exclude = [nodes[i].id for i in ex]
        await node.save(update_fields=["scope_whitelist", "scope_exclude"])
    people = []
    for seats, status, hidden in members:
        people.append(await f.member([nodes[i] for i in seats], status=status, hidden=hidden))
    viewer_member = people[viewer_idx]
    if viewer_member.status is not MemberStatus.ACTIVE:
        viewer_member.status = MemberStatus.ACTIVE
        await viewer_member.save(update_fields=["status"])
    if admin == "super":
        await f.grant(viewer_member, AdminKind.SUPER_ADMIN)
    elif admin == "directory":
        await f.grant(viewer_member, AdminKind.DIRECTORY_ADMIN, unit_ids=[nodes[i].id for i in ranges],
                      rights=[AdminRight.READ.value])
    return corp, viewer_member


# The profile's count (500 in CI): the directory and chain rules' two evaluators agreeing is
# the policy's core property (SPEC §2), and test_perf_policy_sql's faster forms rely on these
# shapes being explored here in full.
@given(corp_shapes())
async def test_directory_rules_sql_filter_equals_in_memory_check(database, shape):
    corp, viewer_member = await build_corp(shape)
    viewer = await member_viewer(viewer_member.id)
    assert viewer is not None

    everyone = await Member.filter(corp_id=corp.id)
    facts = await member_facts(everyone)
    by_sql = set(await Member.filter(visible_members_q(viewer), corp_id=corp.id).values_list("id", flat=True))
    in_memory = {m.id for m in everyone if can_see_member(viewer, facts[m.id])}
    assert by_sql == in_memory
    assert viewer_member.id in by_sql

    units = await OrgUnit.filter(corp_id=corp.id)
    by_sql = set(await OrgUnit.filter(scope.units_q(viewer), corp_id=corp.id).values_list("id", flat=True))
    in_memory = {u.id for u in units if scope.can_see_unit(viewer, UnitFacts(u.id, u.corp_id, u.path))}
    assert by_sql == in_memory


@st.composite
def chain_shapes(draw):
    n_groups = draw(st.integers(1, 6))
    groups = [(draw(st.integers(0, i - 1)) if i else None, draw(st.booleans())) for i in range(n_groups)]
    corps_ = draw(
        st.lists(
            st.tuples(
                st.integers(0, n_groups - 1),
                st.sampled_from(list(ChainCorpStatus)),
                st.lists(st.sampled_from(list(ContactStatus)), min_size=1, max_size=2),
                st.booleans(),  # invited by the owner's viewer member
                # A colleague behind the second contact, in any status (SPEC §3.5: a resigned or
                # disabled one's contact is left to the chain's admins), or no one.
                st.none() | st.sampled_from(list(MemberStatus)),
            ),
            min_size=1,
            max_size=6,
        )
    )
    rules = draw(
        st.lists(
            st.tuples(st.sampled_from(["unit", "member"]), st.sampled_from(["group", "corp"]), st.integers(0, 50)),
            max_size=4,
        )
    )
    switch = draw(st.booleans())
    viewer = draw(st.one_of(st.just(("owner", None)), st.tuples(st.just("downstream"), st.integers(0, 5))))
    owner_admin = draw(st.sampled_from(["none", "super", "chain_all", "chain_groups"]))
    admin_groups = draw(st.lists(st.integers(0, n_groups - 1), min_size=1, max_size=2, unique=True))
    return groups, corps_, rules, switch, viewer, owner_admin, admin_groups


@given(chain_shapes())
async def test_chain_rules_sql_filter_equals_in_memory_check(database, shape):
    groups, corps_spec, rules, switch, viewer_spec, owner_admin, admin_groups = shape
    owner, oroot = await f.corp("主")
    ounit = await f.unit(oroot)
    owner_member = await f.member([ounit], name="对接人")
    chain_, groot = await f.chain_space(owner, corps_see_each_other=switch)
    gnodes = [groot]
    for parent, peers in groups[1:]:
        gnodes.append(await f.group(gnodes[parent], peers_visible=peers))
    if groups[0][1]:
        groot.peers_visible = True
        await groot.save(update_fields=["peers_visible"])
    places, downstream_members = [], []
    for gi, status, contact_statuses, invited, colleague_status in corps_spec:
        c, croot = await f.corp()
        m = await f.member([croot])
        colleague = await f.member([croot], status=colleague_status) if colleague_status is not None else None
        cc = await f.chain_corp(gnodes[gi], c, status=status, invited_by=owner_member if invited else None)
        for i, cs in enumerate(contact_statuses):
            await f.contact(cc, m if i == 0 else colleague, status=cs)
        places.append(cc)
        downstream_members.append(m)
    for subject, obj, pick in rules:
        kw = {"subject_unit": ounit} if subject == "unit" else {"subject_member": owner_member}
        if obj == "group":
            kw["object_group"] = gnodes[pick % len(gnodes)]
        else:
            kw["object_chain_corp"] = places[pick % len(places)]
        await f.rule(chain_, **kw)

    kind, idx = viewer_spec
    if kind == "owner":
        if owner_admin == "super":
            await f.grant(owner_member, AdminKind.SUPER_ADMIN)
        elif owner_admin == "chain_all":
            await f.grant(owner_member, AdminKind.CHAIN_ADMIN, chain=chain_)
        elif owner_admin == "chain_groups":
            await f.grant(owner_member, AdminKind.CHAIN_ADMIN, chain=chain_,
                          group_ids=[gnodes[i].id for i in admin_groups])
        who = owner_member
    else:
        who = downstream_members[idx % len(downstream_members)]
    viewer = await member_viewer(who.id)
    assert viewer is not None

    in_chain = ChainCorp.filter(chain_id=chain_.id)
    facts = await chain_corp_facts(in_chain)
    by_sql = set(await ChainCorp.filter(chain.chain_corps_q(viewer), chain_id=chain_.id).values_list("id", flat=True))
    assert by_sql == {c.id for c in facts if chain.can_see_chain_corp(viewer, c)}

    cfacts = await contact_facts(ChainContact.filter(chain_id=chain_.id))
    by_sql = set(await ChainContact.filter(chain.contacts_q(viewer), chain_id=chain_.id).values_list("id", flat=True))
    assert by_sql == {c.id for c in cfacts if chain.can_see_contact(viewer, c)}
    # The same contacts when the narrow selectors' corps are read up front and listed.
    listed = await selector_corps(viewer, chain_.id)
    by_listed = ChainContact.filter(chain.contacts_q(viewer, listed=listed), chain_id=chain_.id)
    assert set(await by_listed.values_list("id", flat=True)) == by_sql

    gall = await ChainGroup.filter(chain_id=chain_.id)
    by_sql = set(await ChainGroup.filter(chain.groups_q(viewer), chain_id=chain_.id).values_list("id", flat=True))
    assert by_sql == {g.id for g in gall if chain.can_see_group(viewer, GroupFacts(g.id, g.chain_id, g.path))}

    corp_ids = [owner.id] + [m.corp_id for m in downstream_members]
    people = await Member.filter(corp_id__in=corp_ids)
    mfacts = await member_facts(people)
    by_sql = set(await Member.filter(visible_members_q(viewer), corp_id__in=corp_ids).values_list("id", flat=True))
    assert by_sql == {m.id for m in people if can_see_member(viewer, mfacts[m.id])}

    places_by_corp = {}
    for c in facts:
        corp_id = next(p.corp_id for p in places if p.id == c.id)
        places_by_corp.setdefault(corp_id, []).append(c)
    by_sql = set(await Corp.filter(corps.corps_q(viewer), id__in=corp_ids).values_list("id", flat=True))
    assert by_sql == {c for c in corp_ids if can_see_corp(viewer, c, places_by_corp.get(c, []))}
