"""The audit trail, read back: Corp.auditEvents and AuditEvent nodes (SPEC §1, §2.4)."""
