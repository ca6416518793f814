"""Protection of the gateway against crafted requests: limits, budgets, error masking.

`gate` (HTTP: body size, request budgets, authentication), `view` (the /graphql view with
coded refusals), `extension` (per-request introspection, query limits, the error policy),
`limits` (depth, aliases, cost and list bounds of a document), `errors` (the stable codes),
`client_address` (the client's IP: the peer, or what a trusted proxy says).
"""
