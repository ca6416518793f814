"""The HTTP layer: the ASGI app, its middleware and the REST endpoints around the GraphQL schema."""
