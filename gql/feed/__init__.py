"""The change feed in GraphQL (SPEC §3.9): delta sync on Corp and ChainSpace, webhooks, the live subscription."""
