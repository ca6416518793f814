"""Property tests: the SQL filters of the invitation and join-request rules select exactly
what their in-memory checks accept, for random group trees, admins, creators and viewers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from models import Invitation
from models.chain import JoinRequest, JoinRequestKind
from models.enums import AdminKind
from permissions import chain
from permissions.loading import member_viewer
from tests import factories as f


@st.composite
def shapes(draw):
    n_groups = draw(st.integers(1, 5))
    parents = [draw(st.integers(0, i - 1)) if i else None for i in range(n_groups)]
    # Each invitation: its group (None: the whole chain) and who created it.
    invitations = draw(st.lists(
        st.tuples(st.one_of(st.none(), st.integers(0, n_groups - 1)), st.sampled_from(["admin", "viewer", "leader"])),
        max_size=6,
    ))
    viewer_role = draw(st.sampled_from(["none", "super", "chain_all", "chain_groups", "leader", "other_super"]))
    admin_groups = draw(st.lists(st.integers(0, n_groups - 1), min_size=1, max_size=2, unique=True))
    requests = draw(st.lists(st.sampled_from(["owner", "downstream"]), max_size=4))
    return parents, invitations, viewer_role, admin_groups, requests


@given(shapes())
async def test_invitation_and_join_request_filters_equal_their_checks(database, shape):
    parents, invitation_spec, viewer_role, admin_groups, request_spec = shape
    owner, oroot = await f.corp("主")
    admin = await f.super_admin(oroot)
    viewer_member = await f.member([oroot], name="看的人")
    chain_, groot = await f.chain_space(owner)
    groups = [groot]
    for parent in parents[1:]:
        groups.append(await f.group(groups[parent]))
    down_corp, droot = await f.corp("下游")
    leader = await f.member([droot], name="下游负责人")
    place = await f.chain_corp(groups[-1], down_corp)
    contact = await f.contact(place, leader)
    creators = {"admin": admin, "viewer": viewer_member, "leader": leader}
    for gi, who in invitation_spec:
        await f.invitation(chain_, creators[who], groups[gi] if gi is not None else None)
    for target in request_spec:
        corp = owner if target == "owner" else down_corp
        pending = await f.contact(place, None)
        await JoinRequest.create(chain=chain_, chain_corp=place, contact=pending, corp=corp, kind=JoinRequestKind.JOIN)

    who = viewer_member
    if viewer_role == "super":
        await f.grant(viewer_member, AdminKind.SUPER_ADMIN)
    elif viewer_role == "chain_all":
        await f.grant(viewer_member, AdminKind.CHAIN_ADMIN, chain=chain_)
    elif viewer_role == "chain_groups":
        await f.grant(viewer_member, AdminKind.CHAIN_ADMIN, chain=chain_, group_ids=[groups[i].id for i in admin_groups])
    elif viewer_role == "leader":
        who = leader
    elif viewer_role == "other_super":
        who = leader
        await f.grant(leader, AdminKind.SUPER_ADMIN)
    viewer = await member_viewer(who.id)
    assert viewer is not None and contact.member_id == leader.id

    rows = await Invitation.filter(chain_id=chain_.id).prefetch_related("group")
    in_memory = {
        i.id for i in rows
        if chain.can_see_invitation(viewer, chain.InvitationFacts(i.id, i.chain_id, i.group.path if i.group else None, i.created_by_id))
    }
    by_sql = set(await Invitation.filter(chain.invitations_q(viewer), chain_id=chain_.id).values_list("id", flat=True))
    assert by_sql == in_memory

    requests = await JoinRequest.filter(chain_id=chain_.id)
    by_sql = set(await JoinRequest.filter(chain.join_requests_q(viewer), chain_id=chain_.id).values_list("id", flat=True))
    assert by_sql == {r.id for r in requests if chain.can_see_join_request(viewer, r.corp_id)}
