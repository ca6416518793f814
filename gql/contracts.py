"""Each mutation's contract (SPEC §3): the right it needs and the userError codes it can return,
declared once beside the mutation field and written into its SDL description from there."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry


@dataclass(frozen=True)
class Contract:
    """What a mutation promises: `right` (who may call it, in words) and `codes` (the
    UserErrorCodes its userErrors can carry, each once, in the order declared)."""

    right: str
    codes: tuple[Enum, ...]

    def describe(self, text: str) -> str:
        """The mutation's SDL description: `text`, then its right and its codes."""
        return f"{text} Right: {self.right}. Codes: {', '.join(c.name for c in self.codes)}."


# Resolver function -> its contract; filled by declare() as gql/schema.py builds Mutation.
CONTRACTS: dict[Callable[..., Any], Contract] = {}


def declare(resolver: Callable[..., Any], text: str, *, right: str, codes: Iterable[Enum]) -> Any:
    """A Mutation field for `resolver` whose description is `text` followed by the right it needs
    and the codes it returns; the contract is recorded in CONTRACTS (checked by
    tests/project/test_error_codes.py against the codes the resolver's flows can raise)."""
    contract = Contract(right=right, codes=tuple(dict.fromkeys(codes)))
    CONTRACTS[resolver] = contract
    return strawberry.mutation(resolver=resolver, description=contract.describe(text))
