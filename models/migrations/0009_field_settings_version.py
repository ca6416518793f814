from tortoise import migrations
from tortoise.migrations import operations as ops

# A kept Viewer also keeps what its requests read of these tables (a corp's field settings,
# the corp's own row: gql.directory.loaders), so their writes bump policy_version too, as
# 0007's tables do: field settings on any row; a corp on an update of a column the directory
# reads (a new corp is in no kept Viewer; a deleted one takes its units with it, and those bump).
BUMPED_ON_ANY_ROW = {
    "field_setting": ("corp_id", "field", "visible_to_members", "self_editable"),
}
BUMPED_ON_UPDATE_ONLY = {
    "corp": ("name", "short_name", "name_key", "verified", "search_by_mobile"),
}
BUMP = "UPDATE policy_version SET version = version + 1 WHERE id = 1"


def _trigger_sql(dialect: str) -> list[str]:
    out = []
    tables = {**{t: (c, True) for t, c in BUMPED_ON_ANY_ROW.items()},
              **{t: (c, False) for t, c in BUMPED_ON_UPDATE_ONLY.items()}}
    for table, (columns, rows_count) in tables.items():
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        cols = ", ".join(columns)
        if dialect == "postgres":  # bump_policy_version() is 0007's
            if rows_count:
                out.append(f"CREATE TRIGGER {table}_policy_rows AFTER INSERT OR DELETE ON {table} "
                           "FOR EACH STATEMENT EXECUTE FUNCTION bump_policy_version()")
            out.append(f"CREATE TRIGGER {table}_policy_update AFTER UPDATE OF {cols} ON {table} "
                       f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION bump_policy_version()")
        else:
            if rows_count:
                for event in ("INSERT", "DELETE"):
                    out.append(f"CREATE TRIGGER {table}_policy_{event.lower()} AFTER {event} ON {table} "
                               f"BEGIN {BUMP}; END")
            out.append(f"CREATE TRIGGER {table}_policy_update AFTER UPDATE OF {cols} ON {table} "
                       f"WHEN {changed.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {BUMP}; END")
    return out


def _drop_sql(dialect: str) -> list[str]:
    out = []
    for table in (*BUMPED_ON_ANY_ROW, *BUMPED_ON_UPDATE_ONLY):
        names = [f"{table}_policy_update"]
        if table in BUMPED_ON_ANY_ROW:
            names += [f"{table}_policy_rows"] if dialect == "postgres" else [f"{table}_policy_insert", f"{table}_policy_delete"]
        for name in names:
            out.append(f"DROP TRIGGER IF EXISTS {name} ON {table}" if dialect == "postgres" else f"DROP TRIGGER IF EXISTS {name}")
    return out


async def create_triggers(apps, schema_editor):
    client = schema_editor.client
    for sql in _trigger_sql(client.capabilities.dialect):
        await client.execute_script(sql)


async def drop_triggers(apps, schema_editor):
    client = schema_editor.client
    for sql in _drop_sql(client.capabilities.dialect):
        await client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('models', '0008_search')]

    initial = False

    operations = [
        ops.RunPython(create_triggers, drop_triggers),
    ]
