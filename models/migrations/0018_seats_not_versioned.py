from tortoise import migrations
from tortoise.migrations import operations as ops

# A member's seats (placement rows) stop bumping the policy version (migration 0007 made every
# insert, delete and unit/member update of a seat bump it). What a seat gives a Viewer is only
# the seat holder's own units (permissions.loading.member_viewer reads placements of that
# member alone; app Viewers and Viewer.kept read none): so the per-request check reads the
# member's own seat unit ids itself (auth.viewer_cache.MEMBER_CHECK) and a kept Viewer is used
# only while both the version and those seats are as it was built at. A seat write now changes
# no other Viewer: an import placing 100,000 new members no longer makes every kept Viewer stale
# at each batch, nor queues a concurrent policy write behind the counter row it locked.

TRIGGERS = {
    "postgres": ("placement_policy_rows", "placement_policy_update"),
    "sqlite": ("placement_policy_insert", "placement_policy_delete", "placement_policy_update"),
}


def _recreate_sql(dialect: str) -> list[str]:
    """0007's placement triggers as they were (the way back)."""
    from importlib import import_module

    original = import_module("models.migrations.0007_policy_version")
    return [sql for sql in original._trigger_sql(dialect)
            if any(f"TRIGGER {name} " in sql for name in TRIGGERS[dialect])]


async def drop_seat_triggers(apps, schema_editor):
    client = schema_editor.client
    dialect = client.capabilities.dialect
    for name in TRIGGERS[dialect]:
        await client.execute_script(
            f"DROP TRIGGER IF EXISTS {name} ON placement" if dialect == "postgres" else f"DROP TRIGGER IF EXISTS {name}"
        )


async def recreate_seat_triggers(apps, schema_editor):
    client = schema_editor.client
    for sql in _recreate_sql(client.capabilities.dialect):
        await client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('models', '0017_contact_headcounts')]

    initial = False

    operations = [
        ops.RunPython(drop_seat_triggers, recreate_seat_triggers),
    ]
