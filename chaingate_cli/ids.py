"""Ids on the command line: the global ids GraphQL hands out (`Q29ycDox`), or plain numbers."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def id_of(type_name: str) -> Callable[[str], int]:
    """An argparse `type` taking a `type_name` global id or number; anything else is a usage
    error naming the option's value (argparse prints it, no traceback)."""
    from gql.relay import pk_from_text

    def parse(text: str) -> int:
        pk = pk_from_text(text.strip(), type_name)
        if pk is None:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {type_name} id (a global id such as the API "
                                             f"returns, or a number)")
        return pk

    parse.__name__ = f"{type_name} id"  # argparse names the type in its messages
    return parse
