"""Every element of the public schema says what it is (issue 15.10): an admin in GraphiQL's docs pane finds
each type, field, argument, input field and enum value described — its format or units, who may see or call
it, and for mutations the error codes it returns."""

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    is_introspection_type,
    is_specified_scalar_type,
)

from gql.schema import schema

# Elements that come with Strawberry's relay module and carry no description there. Kept short and explicit:
# anything chaingate declares itself is described in its own code.
RELAY_CONVENTIONS = frozenset({
    "PageInfo",
})


def _blank(description: str | None) -> bool:
    return not (description or "").strip()


def undescribed_elements() -> list[str]:
    """Dotted paths (`Type`, `Type.field`, `Type.field(arg)`, `Enum.VALUE`) of schema elements without a description."""
    missing: list[str] = []
    for name, named in sorted(schema._schema.type_map.items()):
        if is_introspection_type(named) or is_specified_scalar_type(named) or name in RELAY_CONVENTIONS:
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
    missing = undescribed_elements()
    assert not missing, f"{len(missing)} schema elements without a description:\n" + "\n".join(missing)
