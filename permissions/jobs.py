"""Who may see (and retry) an import job: the member or app that started it, the corp's
super admins for directory jobs, and the chain's whole-chain admins for chain jobs."""

from __future__ import annotations

from dataclasses import dataclass

from permissions import actions
from permissions.viewer import Viewer, ViewerKind


@dataclass(frozen=True)
class JobFacts:
    """What the job rule needs of one ImportJob row: its corp and chain (None for a directory
    import) and who started it (`actor_kind` a ViewerKind value, `actor_id` a member or app token id)."""

    corp_id: int
    chain_id: int | None
    actor_kind: str
    actor_id: int | None


def started(viewer: Viewer, job: JobFacts) -> bool:
    """Whether the viewer itself (the same member, or the same app token) started `job` (SPEC §3.8). Pure."""
    if job.actor_id is None:
        return False
    if viewer.kind is ViewerKind.MEMBER and job.actor_kind == ViewerKind.MEMBER.value:
        return viewer.member_id == job.actor_id
    if viewer.kind is ViewerKind.APP and job.actor_kind == ViewerKind.APP.value:
        return viewer.app_token_id == job.actor_id
    return False


def can_see_import_job(viewer: Viewer, job: JobFacts) -> bool:
    """Whether the viewer sees (and may retry) `job`: whoever started it, the corp's super
    admins for directory jobs, the chain's whole-chain admins for chain jobs (SPEC §3.8). Pure."""
    if started(viewer, job):
        return True
    if job.chain_id is not None:
        return actions.can_manage_chain(viewer, job.chain_id)
    return actions.can_administer_corp(viewer, job.corp_id)
