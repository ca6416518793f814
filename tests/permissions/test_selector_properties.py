"""Property tests for chain selectors: a selector dropped because another covers it never
changes what a viewer sees (the policy keeps fewer subqueries, never fewer rights)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from models.enums import ChainCorpStatus, ContactStatus
from permissions.chain import CorpSelector
from permissions.facts import ChainCorpFacts

# A small group tree: /1/ with children /1/2/, /1/3/, grandchild /1/2/4/ (ids as in paths).
GROUP_PATHS = {1: "/1/", 2: "/1/2/", 3: "/1/3/", 4: "/1/2/4/", 5: "/5/"}

selectors_st = st.builds(
    CorpSelector,
    chain_id=st.sampled_from([1, 2]),
    contact_statuses=st.frozensets(st.sampled_from(list(ContactStatus)), min_size=1),
    joined_only=st.booleans(),
    group_paths=st.one_of(st.none(), st.lists(st.sampled_from(list(GROUP_PATHS.values())), min_size=1, max_size=2).map(tuple)),
    group_id=st.one_of(st.none(), st.sampled_from(list(GROUP_PATHS))),
    chain_corp_ids=st.one_of(st.none(), st.frozensets(st.integers(1, 4), max_size=3)),
)
corps_st = st.builds(
    lambda i, chain_id, status, group_id: ChainCorpFacts(i, chain_id, status, group_id, GROUP_PATHS[group_id]),
    st.integers(1, 4), st.sampled_from([1, 2]), st.sampled_from(list(ChainCorpStatus)), st.sampled_from(list(GROUP_PATHS)),
)


def admits(s: CorpSelector, corp: ChainCorpFacts, status: ContactStatus) -> bool:
    return s.matches(corp) and status in s.contact_statuses


@given(selectors_st, selectors_st, corps_st, st.sampled_from(list(ContactStatus)))
def test_a_covering_selector_admits_every_contact_the_covered_one_admits(t, s, corp, status):
    if t.covers(s) and admits(s, corp, status):
        assert admits(t, corp, status)


@given(st.lists(selectors_st, min_size=1, max_size=5), corps_st, st.sampled_from(list(ContactStatus)))
def test_dropping_covered_selectors_keeps_what_the_viewer_sees(every, corp, status):
    from permissions.chain import without_covered

    kept = without_covered(every)
    assert kept and len(kept) <= len(every)
    assert any(admits(s, corp, status) for s in kept) == any(admits(s, corp, status) for s in every)


def test_a_chain_admins_group_range_covers_a_rule_on_a_subgroup():
    admin = CorpSelector(1, frozenset(ContactStatus), joined_only=False, group_paths=("/1/2/",))
    rule = CorpSelector(1, frozenset({ContactStatus.JOINED}), group_paths=("/1/2/4/",))
    other_chain = CorpSelector(2, frozenset({ContactStatus.JOINED}), group_paths=("/1/2/4/",))
    assert admin.covers(rule) and not rule.covers(admin) and not admin.covers(other_chain)
    from permissions.chain import without_covered

    assert without_covered([rule, admin, other_chain]) == [admin, other_chain]
    assert without_covered([admin, admin]) == [admin]
