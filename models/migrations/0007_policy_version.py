from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# What a Viewer is built from (permissions.loading.member_viewer / app_viewer): any insert or
# delete in these tables, and any update of these columns, bumps policy_version in the same
# statement's transaction. Member status, tokens_valid_after and an app token's revocation,
# expiry and lastUsedAt are not here: they are read on every request, not cached.
BUMPED_ON_ANY_ROW = {
    "org_unit": ("corp_id", "parent_id", "path", "scope", "scope_whitelist", "scope_exclude"),
    "placement": ("member_id", "unit_id"),
    "admin_grant": ("corp_id", "member_id", "kind", "unit_ids", "rights", "chain_id", "group_ids"),
    "chain_space": ("owner_corp_id", "corps_see_each_other"),
    "chain_group": ("chain_id", "parent_id", "path", "peers_visible"),
    "chain_corp": ("chain_id", "group_id", "corp_id", "status", "invited_by_id"),
    "chain_rule": ("chain_id", "subject_unit_id", "subject_member_id", "object_group_id", "object_chain_corp_id"),
}
# Rows whose insertion or deletion changes no Viewer by itself (a deleted member's seats and
# grants go by cascade and bump there): only these columns count.
BUMPED_ON_UPDATE_ONLY = {
    "member": ("corp_id", "person_id"),
    "app_token": ("corp_id", "scopes", "chain_id"),
}
BUMP = "UPDATE policy_version SET version = version + 1 WHERE id = 1"


def _trigger_sql(dialect: str) -> list[str]:
    out = []
    tables = {**{t: (c, True) for t, c in BUMPED_ON_ANY_ROW.items()},
              **{t: (c, False) for t, c in BUMPED_ON_UPDATE_ONLY.items()}}
    if dialect == "postgres":
        out.append(
            "CREATE OR REPLACE FUNCTION bump_policy_version() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
    for table, (columns, rows_count) in tables.items():
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        cols = ", ".join(columns)
        if dialect == "postgres":
            # Inserts and deletes once per statement (bulk imports bump once, not per row);
            # updates per row, so that saving a row without changing these columns does not.
            if rows_count:
                out.append(f"CREATE TRIGGER {table}_policy_rows AFTER INSERT OR DELETE ON {table} "
                           "FOR EACH STATEMENT EXECUTE FUNCTION bump_policy_version()")
            out.append(f"CREATE TRIGGER {table}_policy_update AFTER UPDATE OF {cols} ON {table} "
                       f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION bump_policy_version()")
        else:  # SQLite has row triggers only
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
    if dialect == "postgres":
        out.append("DROP FUNCTION IF EXISTS bump_policy_version()")
    return out


async def create_triggers(apps, schema_editor):
    client = schema_editor.client
    await client.execute_query("INSERT INTO policy_version (id, version) VALUES (1, 1)")
    for sql in _trigger_sql(client.capabilities.dialect):
        await client.execute_script(sql)


async def drop_triggers(apps, schema_editor):
    client = schema_editor.client
    for sql in _drop_sql(client.capabilities.dialect):
        await client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('models', '0006_job_leases')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PolicyVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.BigIntField(default=0)),
            ],
            options={'table': 'policy_version', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(create_triggers, drop_triggers),
    ]
