from tortoise import migrations
from tortoise.migrations import operations as ops
from json import loads
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise import fields


async def _queues_and_stash(apps, schema_editor):
    """Each job gets its queue; its JSON list of row errors waits in a stash while SQLite
    rebuilds the job table without that column."""
    client = schema_editor.client
    await client.execute_script(
        "UPDATE import_job SET queue = CASE WHEN chain_id IS NULL THEN 'corp:' || corp_id ELSE 'chain:' || chain_id END;"
        "CREATE TABLE import_job_errors_stash AS SELECT id, errors FROM import_job"
    )


async def _errors_to_their_table(apps, schema_editor):
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    _, rows = await client.execute_query("SELECT id, errors FROM import_job_errors_stash")
    values = []
    for row in rows:
        errors = row["errors"]
        for e in (loads(errors) if isinstance(errors, str) else errors) or []:
            values.append([row["id"], e.get("row"), e.get("column"), e.get("code") or "", e.get("message") or ""])
    marks = ", ".join(f"${i}" if postgres else "?" for i in range(1, 6))
    for value in values:
        await client.execute_query(
            f'INSERT INTO import_job_error (job_id, "row", "column", code, message) VALUES ({marks})', value
        )
    await client.execute_script("DROP TABLE import_job_errors_stash")


class Migration(migrations.Migration):
    dependencies = [('models', '0005_identity_binding')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ImportJob',
            name='queue',
            field=fields.CharField(default='', db_default='', max_length=40),
        ),
        ops.AddField(
            model_name='ImportJob',
            name='lease_owner',
            field=fields.CharField(null=True, max_length=80),
        ),
        ops.AddField(
            model_name='ImportJob',
            name='lease_expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ImportJob',
            name='rows_done',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddIndex(
            model_name='ImportJob',
            index=Index(fields=['status', 'queue']),
        ),
        ops.CreateModel(
            name='ImportJobError',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('job', fields.ForeignKeyField('models.ImportJob', source_field='job_id', db_constraint=True, to_field='id', related_name='row_errors', on_delete=OnDelete.CASCADE)),
                ('row', fields.IntField(null=True)),
                ('column', fields.CharField(null=True, max_length=255)),
                ('code', fields.CharField(max_length=40)),
                ('message', fields.TextField(unique=False)),
            ],
            options={'table': 'import_job_error', 'app': 'models', 'indexes': [Index(fields=['job_id', 'row'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(_queues_and_stash),
        ops.RemoveField(
            model_name='ImportJob',
            name='errors',
        ),
        ops.RunPython(_errors_to_their_table),
    ]
