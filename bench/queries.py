"""The GraphQL operations the measures time, as a client would send them."""

from __future__ import annotations

MEMBER_FIELDS = "id name account mobile email position gender status hiddenFields"

# A directory page: the members list a client renders (count, cursor, a row's fields and units).
MEMBERS_PAGE = """
query($c: ID!, $n: Int!, $after: String) {
  corp(id: $c) {
    members(first: $n, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { %s departments { isMain unit { name } } } }
    }
  }
}
""" % MEMBER_FIELDS

# The members under one unit and its subtree (P1: the same rows for both viewers).
UNIT_PAGE = """
query($u: ID!, $n: Int!) {
  node(id: $u) {
    ... on OrgUnit {
      members(first: $n, includeDescendants: true) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { %s departments { isMain unit { name } } } }
      }
    }
  }
}
""" % MEMBER_FIELDS

SEARCH = """
query($c: ID!, $q: String!, $n: Int!) {
  corp(id: $c) {
    searchMembers(query: $q, first: $n) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { %s departments { isMain unit { name } } } }
    }
  }
}
""" % MEMBER_FIELDS

# searchMembers with every filter (SPEC §3.7); unset ones are null.
SEARCH_FILTERED = """
query($c: ID!, $q: String!, $n: Int!, $s: String, $status: [MemberStatus!], $from: Date, $to: Date, $month: Month,
      $position: String, $gender: Gender) {
  corp(id: $c) {
    searchMembers(query: $q, first: $n, surnameInitial: $s, status: $status, hiredFrom: $from, hiredTo: $to,
                  birthdayMonth: $month, position: $position, gender: $gender) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { %s departments { isMain unit { name } } } }
    }
  }
}
""" % MEMBER_FIELDS

# P3: 100 members x 8 fields with their departments, nothing else.
P3_PAGE = """
query($c: ID!) {
  corp(id: $c) {
    members(first: 100) {
      edges { node { id name account mobile email position gender status departments { isMain unit { name } } } }
    }
  }
}
"""

CHAIN_CORPS = """
query($ch: ID!, $n: Int!, $after: String) {
  chainSpace(id: $ch) {
    corps(first: $n, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id importedName customCorpId status group { name } } }
    }
  }
}
"""

CHAIN_CONTACTS = """
query($ch: ID!, $n: Int!, $after: String, $status: ContactStatus) {
  chainSpace(id: $ch) {
    contacts(first: $n, after: $after, status: $status) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name role status mobile hiddenFields } }
    }
  }
}
"""


def without_count(query: str) -> str:
    """The same operation without totalCount."""
    return query.replace("      totalCount\n", "", 1).replace("totalCount ", "", 1)
