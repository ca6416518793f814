from datetime import date

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

BATCH = 5000


async def recompute_search_keys(apps, schema_editor):
    """Members' pinyin keys follow flows.names (surnames read in their surname pronunciation:
    粘 nian, 六 lu, 乜 nie ...), and birth_month follows the birthday. Rows are read by id in
    batches and only those whose keys change are written, so a second run writes nothing.
    The keys come from today's flows.names: this migration is also the recompute to run
    (again) whenever the readings change."""
    from flows.names import search_keys

    client = schema_editor.client
    mark = "?" if client.capabilities.dialect == "sqlite" else "$"
    holders = [f"{mark}{i}" if mark == "$" else "?" for i in range(1, 6)]
    update = (
        f"UPDATE member SET pinyin_full = {holders[0]}, pinyin_initials = {holders[1]}, "
        f"surname_initial = {holders[2]}, birth_month = {holders[3]} WHERE id = {holders[4]}"
    )
    last = 0
    while True:
        _, rows = await client.execute_query(
            "SELECT id, name, pinyin_full, pinyin_initials, surname_initial, birthday, birth_month FROM member "
            f"WHERE id > {int(last)} ORDER BY id LIMIT {BATCH}"
        )
        if not rows:
            return
        changed = []
        for row in map(dict, rows):
            keys = search_keys(row["name"] or "")
            birthday = row["birthday"]
            month = date.fromisoformat(str(birthday)[:10]).month if birthday else None
            if (*keys, month) != (row["pinyin_full"], row["pinyin_initials"], row["surname_initial"], row["birth_month"]):
                changed.append([*keys, month, row["id"]])
        if changed:
            await client.execute_many(update, changed)
        last = dict(rows[-1])["id"]


class Migration(migrations.Migration):
    dependencies = [('models', '0007_policy_version')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Member',
            name='birth_month',
            field=fields.SmallIntField(null=True),
        ),
        ops.RunPython(recompute_search_keys, ops.RunPython.noop),
        ops.AddIndex(
            model_name='Member',
            index=Index(fields=['corp_id', 'birth_month']),
        ),
        ops.AddIndex(
            model_name='Member',
            index=Index(fields=['corp_id', 'hire_date']),
        ),
    ]
