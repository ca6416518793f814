"""Operational records: import jobs, the audit trail, the notification outbox."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.enums import ImportJobStatus, ImportKind


class ImportJob(Model):
    id = fields.IntField(primary_key=True)
    corp = fields.ForeignKeyField("models.Corp", related_name="import_jobs", on_delete=fields.CASCADE)
    corp_id: int
    chain = fields.ForeignKeyField("models.ChainSpace", related_name="import_jobs", null=True, on_delete=fields.CASCADE)
    chain_id: int | None
    kind = fields.CharEnumField(ImportKind, max_length=16)
    mode = fields.CharField(max_length=16, null=True)
    status = fields.CharEnumField(ImportJobStatus, max_length=16, default=ImportJobStatus.QUEUED)
    file_name = fields.CharField(max_length=255, null=True)
    total_rows = fields.IntField(default=0)
    processed_rows = fields.IntField(default=0)
    counts = fields.JSONField(default=dict)
    # Rows handled so far (validated, committed or not): moves within a batch, for progress bars.
    rows_done = fields.IntField(default=0, db_default=0)
    created_by = fields.ForeignKeyField("models.Member", related_name="import_jobs", null=True, on_delete=fields.SET_NULL)
    created_by_id: int | None
    # Who runs it (MEMBER or APP and its id): the job re-resolves this Viewer whenever it runs.
    actor_kind = fields.CharField(max_length=16, default="MEMBER")
    actor_id = fields.IntField(null=True)
    # Mode flags (confirm, force) and the header row as read from the file.
    options = fields.JSONField(default=dict)
    columns = fields.JSONField(default=list)
    # File-level notes for the user, not errors ({code, message, column}): which sheet of
    # several was read (SHEET_CHOSEN), an error report's own columns ignored (REPORT_COLUMNS_IGNORED).
    notices = fields.JSONField(default=list)
    # Why the whole job stopped (a file-level error or a crash); rows already committed stay.
    failure = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    # The queue it waits in (`corp:ID` or `chain:ID`): one job of a queue runs at a time.
    queue = fields.CharField(max_length=40, default="", db_default="")
    # The worker running it and until when: a worker renews its lease while it runs, and a
    # RUNNING job whose lease ran out is taken over by another worker (flows/jobs.py).
    lease_owner = fields.CharField(max_length=80, null=True)
    lease_expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "import_job"
        indexes = (Index(fields=("corp_id", "created_at")), Index(fields=("status", "queue")))


class ImportJobError(Model):
    """One broken rule of one row (or of the whole file, row NULL): written with its batch."""

    id = fields.BigIntField(primary_key=True)
    job = fields.ForeignKeyField("models.ImportJob", related_name="row_errors", on_delete=fields.CASCADE)
    job_id: int
    row = fields.IntField(null=True)
    column = fields.CharField(max_length=255, null=True)
    code = fields.CharField(max_length=40)
    message = fields.TextField()

    class Meta:
        table = "import_job_error"
        indexes = (Index(fields=("job_id", "row")),)


class ImportSource(Model):
    # The submitted file, kept with its job so a job can resume and an error report can quote it.

    job = fields.OneToOneField("models.ImportJob", related_name="source", on_delete=fields.CASCADE, primary_key=True)
    job_id: int
    file_name = fields.CharField(max_length=255)
    content = fields.BinaryField()

    class Meta:
        table = "import_source"


class AuditEvent(Model):
    id = fields.BigIntField(primary_key=True)
    corp = fields.ForeignKeyField("models.Corp", related_name="audit_events", null=True, on_delete=fields.SET_NULL)
    corp_id: int | None
    actor_kind = fields.CharField(max_length=16)
    actor_id = fields.IntField(null=True)
    # A tombstone label that survives the actor's erasure.
    actor_label = fields.CharField(max_length=128, default="")
    action = fields.CharField(max_length=64)
    target_type = fields.CharField(max_length=32)
    target_id = fields.IntField(null=True)
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)
    request_id = fields.CharField(max_length=64, null=True)
    ip = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "audit_event"
        indexes = (Index(fields=("corp_id", "created_at")), Index(fields=("target_type", "target_id")))


class Notification(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=32)
    recipient_mobile = fields.CharField(max_length=32, null=True)
    recipient_member = fields.ForeignKeyField(
        "models.Member", related_name="notifications", null=True, on_delete=fields.SET_NULL
    )
    recipient_member_id: int | None
    payload = fields.JSONField(default=dict)
    # The chain contact a chain invitation or reminder is about: joining or declining deletes its unsent rows.
    chain_contact = fields.ForeignKeyField(
        "models.ChainContact", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    chain_contact_id: int | None
    due_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notification"
        indexes = (Index(fields=("sent_at", "due_at")),)
