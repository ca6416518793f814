"""How many examples the hypothesis property tests draw: the profiles (conftest loads the one
HYPOTHESIS_PROFILE names, `dev` by default) and `sized`, a test's own count in CI.

CI runs the whole suite twice (SQLite, then PostgreSQL) within its time budget. A test that
builds a corp, a chain or a write sequence in the database for every example costs tens of
milliseconds per example, so 500 of them cost minutes per backend. Each such test says with
`@sized(n)` how many it needs in CI, and why, next to it: the checks on code whose
input space is small or covered by another test draw fewer, the core policy rules keep 500.
Pure tests (no database) cost little and keep the profile's count.

- `ci`: 500 examples, or the test's own `sized` count.
- `dev` (a developer's run): 150, or the test's own count when it is smaller.
- `soak` (by hand: `HYPOTHESIS_PROFILE=soak python -m pytest -q tests/permissions/...`):
  5000 for every test, `sized` or not.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILES = {"dev": 150, "ci": 500, "soak": 5000}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")

for _name, _examples in PROFILES.items():
    settings.register_profile(
        _name,
        max_examples=_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def sized(ci: int) -> settings:
    """The settings of a property test that draws `ci` examples in CI (an int > 0): as many in
    CI, at most the dev profile's 150 in a developer's run, the soak profile's 5000 in a soak
    run. Use as a decorator above `@given`; the other settings come from the loaded profile."""
    if PROFILE == "soak":
        return settings(max_examples=PROFILES["soak"])
    return settings(max_examples=min(ci, PROFILES.get(PROFILE, ci)))
