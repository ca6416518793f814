"""Materialised paths (`/1/5/9/`): subtree and ancestor arithmetic, shared by both evaluators."""

from __future__ import annotations

from collections.abc import Iterable


def make_path(parent_path: str | None, node_id: int) -> str:
    return f"{parent_path or '/'}{node_id}/"


def is_under(path: str, root: str) -> bool:
    """True when `path` is `root` or lies in its subtree."""
    return path.startswith(root)


def under_any(path: str, roots: Iterable[str]) -> bool:
    return any(path.startswith(r) for r in roots)


def path_ids(path: str) -> list[int]:
    """The ids along a path, root first, the node itself last."""
    return [int(p) for p in path.strip("/").split("/") if p]


def ancestor_ids(paths: Iterable[str]) -> frozenset[int]:
    """Every node id on the given paths (the nodes themselves and all their ancestors)."""
    out: set[int] = set()
    for p in paths:
        out.update(path_ids(p))
    return frozenset(out)


def root_path(path: str) -> str:
    return f"/{path_ids(path)[0]}/"
