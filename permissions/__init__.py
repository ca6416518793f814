"""The policy engine: the one place that decides visibility (SPEC §2).

Rules live in `scope` (department scope, admin ranges), `chain` (between corps),
`members` (both together), `fields` (field visibility) and `actions` (mutations).
Each row rule has a SQL evaluator (`*_q`) and an in-memory one (`can_see_*`).
"""
