"""Materialised paths (`/1/5/9/`): subtree and ancestor arithmetic, shared by both evaluators."""

from __future__ import annotations

from collections.abc import Iterable

# Paths hold digits and '/' only; '0' is the character right after '/', so every path in
# the subtree of `/1/5/` sorts in [`/1/5/`, `/1/50`) when strings compare bytewise.
_AFTER_SEPARATOR = chr(ord("/") + 1)


def make_path(parent_path: str | None, node_id: int) -> str:
    """The materialised path of node `node_id` under `parent_path` (None: a root), e.g. `/1/5/` + 9 -> `/1/5/9/`."""
    return f"{parent_path or '/'}{node_id}/"


def is_under(path: str, root: str) -> bool:
    """True when `path` is `root` or lies in its subtree."""
    return path.startswith(root)


def under_any(path: str, roots: Iterable[str]) -> bool:
    """True when `path` is one of `roots` or lies in one of their subtrees (see is_under)."""
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
    """The path of the tree root `path` lies under (`/1/5/9/` -> `/1/`); raises IndexError for an empty path."""
    return f"/{path_ids(path)[0]}/"


def is_tree_root(path: str) -> bool:
    """A root node's own path (`/7/`): its subtree is the whole tree."""
    return len(path_ids(path)) == 1


def subtree_upper(root: str) -> str:
    """The exclusive upper bound of `root`'s subtree in bytewise order (see _AFTER_SEPARATOR)."""
    if not root.endswith("/"):
        raise ValueError(f"not a node path: {root!r}")
    return root[:-1] + _AFTER_SEPARATOR


def outermost(roots: Iterable[str]) -> list[str]:
    """The roots not inside another root's subtree, sorted: the same subtrees, fewer predicates."""
    out: list[str] = []
    for r in sorted(set(roots)):
        if not out or not r.startswith(out[-1]):
            out.append(r)
    return out

