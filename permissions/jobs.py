"""Who may see (and retry) an import job: the member or app that started it, the corp's
super admins for directory jobs, and the chain's whole-chain admins for chain jobs."""

from __future__ import annotations

from dataclasses import dataclass

from permissions import actions
from permissions.viewer import Viewer, ViewerKind


@dataclass(frozen=True)
class JobFacts:
    corp_id: int
    chain_id: int | None
    actor_kind: str
    actor_id: int | None


def started(viewer: Viewer, job: JobFacts) -> bool:
    if job.actor_id is None:
        return False
    if viewer.kind is ViewerKind.MEMBER and job.actor_kind == ViewerKind.MEMBER.value:
        return viewer.member_id == job.actor_id
    if viewer.kind is ViewerKind.APP and job.actor_kind == ViewerKind.APP.value:
        return viewer.app_token_id == job.actor_id
    return False


def can_see_import_job(viewer: Viewer, job: JobFacts) -> bool:
    if started(viewer, job):
        return True
    if job.chain_id is not None:
        return actions.can_manage_chain(viewer, job.chain_id)
    return actions.can_administer_corp(viewer, job.corp_id)
