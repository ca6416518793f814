"""Who the request's viewer is, and what of the schema it may discover."""

from __future__ import annotations

from typing import Any

from models.settings import get_settings
from permissions.viewer import ANONYMOUS, Viewer


def viewer_of(context: Any) -> Viewer:
    """The request's Viewer; anonymous for a schema executed without one."""
    viewer = getattr(context, "viewer", None)
    return viewer if isinstance(viewer, Viewer) else ANONYMOUS


def may_introspect(viewer: Viewer) -> bool:
    """Introspection and GraphiQL: always in dev mode, otherwise for admins only. Asked per
    request, so a token that loses its admin grant loses introspection with it."""
    return get_settings().dev or viewer.is_admin


def sees_suggestions(viewer: Viewer) -> bool:
    """"Did you mean …" hints spell out the schema, so they go where introspection goes."""
    return may_introspect(viewer)
