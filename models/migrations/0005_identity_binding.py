from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint


class DuplicateMobiles(Exception):
    pass


async def refuse_duplicate_mobiles(apps, schema_editor):
    """A mobile names one member of a corp from now on. Which of two members sharing a number
    keeps it is a person's decision (one of them may be bound to it already), so the migration
    refuses, before changing anything, and lists them; an empty string is no number."""
    client = schema_editor.client
    _, rows = await client.execute_query(
        "SELECT corp_id, mobile, COUNT(*) AS n FROM member WHERE mobile IS NOT NULL AND mobile <> '' "
        "GROUP BY corp_id, mobile HAVING COUNT(*) > 1 ORDER BY corp_id, mobile"
    )
    if rows:
        listed = "; ".join(f"corp {dict(r)['corp_id']}: {dict(r)['mobile']} x{dict(r)['n']}" for r in rows[:20])
        more = f" and {len(rows) - 20} more" if len(rows) > 20 else ""
        raise DuplicateMobiles(
            f"{len(rows)} mobile(s) are held by several members of one corp ({listed}{more}). Give each "
            "number to one member (clear or change the others' mobile, or delete duplicates), then migrate again."
        )
    await client.execute_script("UPDATE member SET mobile = NULL WHERE mobile = ''")


class Migration(migrations.Migration):
    dependencies = [('models', '0004_list_and_search_indexes')]

    initial = False

    operations = [
        ops.RunPython(refuse_duplicate_mobiles, ops.RunPython.noop),
        ops.RemoveIndex(
            model_name='Member',
            name=None,
            fields=['corp_id', 'mobile'],
        ),
        ops.AddField(
            model_name='Member',
            name='tokens_valid_after',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddConstraint(
            model_name='Member',
            constraint=UniqueConstraint(fields=('corp', 'mobile'), name=None),
        ),
    ]
