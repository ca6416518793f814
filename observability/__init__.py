"""Metrics and structured logs, below every other layer: flows, gql and the CLI report into
it, it imports nothing of theirs.

`metrics` (Prometheus counters and histograms, multi-process aware), `logs` (JSON log lines
through structlog, with the request id of the request being served).
"""
