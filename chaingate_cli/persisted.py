"""`chaingate persisted build DIR-OR-FILES… [--output PATH]`: the persisted-query manifest."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)

DEFAULT_OUTPUT = "persisted-queries.json"


def cmd_build(args: argparse.Namespace) -> int:
    from gql.persisted import BuildError, build_manifest, write_manifest
    from gql.schema import schema

    try:
        manifest, built = build_manifest([Path(p) for p in args.paths], schema._schema)
    except BuildError as exc:
        err.print(f"[red]Not written: {len(exc.problems)} problem(s)[/red]")
        for problem in exc.problems:
            err.print(f"  {escape(problem)}", soft_wrap=True)
        return 1
    output = Path(args.output)
    write_manifest(manifest, output)
    # One line per document, unwrapped: the ids are there to be copied.
    for doc in built:
        out.print(f"{doc.sha256}  {doc.path}  ({', '.join(doc.operations)})", soft_wrap=True, markup=False,
                  highlight=False)
    out.print(f"Wrote {len(manifest)} document(s) to {escape(str(output))}: serve it with CHAINGATE_PERSISTED_QUERIES={escape(str(output))}")
    return 0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("persisted", help="persisted queries: build the safelist manifest")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    b = actions.add_parser(
        "build", help="write the manifest (sha256 -> document) from .graphql files, each checked against the schema"
    )
    b.add_argument("paths", nargs="+", metavar="DIR-OR-FILE", help="directories (searched for .graphql/.gql) or files")
    b.add_argument("--output", "-o", default=DEFAULT_OUTPUT, metavar="PATH", help=f"default: {DEFAULT_OUTPUT}")
    b.set_defaults(func=cmd_build)
