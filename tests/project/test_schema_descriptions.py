"""Every element of the public schema says what it is (issue 15.10): an admin in GraphiQL's docs pane finds
each type, field, argument, input field and enum value described — its format or units, who may see or call
it, and for mutations the error codes it returns."""

from enum import Enum
from typing import Annotated

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    is_introspection_type,
    is_specified_scalar_type,
)

from gql.schema import schema

# No exceptions: the relay parts Strawberry supplies (Node, Node.id) come described, and chaingate's own
# connections, edges and PageInfo (gql/relay.py) are described in its code.


def _blank(description: str | None) -> bool:
    return not (description or "").strip()


def undescribed_elements(graphql_schema: GraphQLSchema) -> list[str]:
    """Dotted paths (`Type`, `Type.field`, `Type.field(arg)`, `Enum.VALUE`) of schema elements without a
    description; introspection types and the built-in scalars (String, Int, ...) aside."""
    missing: list[str] = []
    for name, named in sorted(graphql_schema.type_map.items()):
        if is_introspection_type(named) or is_specified_scalar_type(named):
            continue
        if _blank(named.description):
            missing.append(name)
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, field in named.fields.items():
                if _blank(field.description):
                    missing.append(f"{name}.{field_name}")
                missing.extend(f"{name}.{field_name}({arg_name})"
                               for arg_name, arg in field.args.items() if _blank(arg.description))
        elif isinstance(named, GraphQLInputObjectType):
            missing.extend(f"{name}.{field_name}" for field_name, field in named.fields.items()
                           if _blank(field.description))
        elif isinstance(named, GraphQLEnumType):
            missing.extend(f"{name}.{value_name}" for value_name, value in named.values.items()
                           if _blank(value.description))
    return missing


def test_every_schema_element_has_a_description():
    missing = undescribed_elements(schema._schema)
    assert not missing, f"{len(missing)} schema elements without a description:\n" + "\n".join(missing)


def test_the_walk_finds_each_kind_of_undescribed_element():
    @strawberry.enum(description="described")
    class Colour(Enum):
        RED = strawberry.enum_value("RED", description="described")
        BLUE = "BLUE"

    @strawberry.input(description="described")
    class Filter:
        colour: Colour = strawberry.field(description="described")
        text: str

    @strawberry.type
    class Query:
        @strawberry.field(description="described")
        def things(
            self,
            filter: Annotated[Filter, strawberry.argument(description="described")],
            limit: int = 10,
        ) -> list[str]:
            return []

        @strawberry.field
        def bare(self) -> str:
            return ""

    found = undescribed_elements(strawberry.Schema(query=Query)._schema)
    assert found == ["Colour.BLUE", "Filter.text", "Query", "Query.things(limit)", "Query.bare"]
