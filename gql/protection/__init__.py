"""Protection of the schema against crafted requests: limits, error masking, coded refusals.

`extension` (per-request introspection, query limits, the error policy), `limits` (depth,
aliases, cost and list bounds of a document), `documents` (the parsed-document cache),
`arguments` (string caps), `errors` (the stable codes), `viewers` (what a viewer may discover).
The HTTP side (body size, request budgets, the /graphql view, the client's address) is in
web/: `web.gate`, `web.view`, `web.client_address`.
"""
