from tortoise import migrations
from tortoise.migrations import operations as ops

# A chain contact's node shows its linked member (`member`, and for non-admins the contact's
# `mobile` through that member's field policy), so a write that changes whether or how the
# member is seen changes the contact as every chain viewer reads it: the member's status,
# directory hiding or corp, and its seats (in-corp scope). Those writes log a MEMBER row for
# the corp feed only; these triggers also log a CONTACT `UPDATED` row (changed: `member`) for
# each contact linked to the member, in the chain feed, with the contact's visibility facts
# (unchanged by the write) as `before` — as migration 0011 does for a chain corp's contacts.

MEMBER_REACH = ("status", "hidden_from_directory", "corp_id")


def _contacts_of(pg: bool, members: str) -> str:
    xid = "pg_current_xact_id()::text::bigint" if pg else "NULL"
    now = ("(extract(epoch from clock_timestamp()) * 1000)::bigint" if pg
           else "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)")
    pairs = "'s', c.status, 'm', c.member_id, 'c', c.chain_corp_id, 'cs', k.status, 'g', k.group_id"
    before = f"json_build_object({pairs})::text" if pg else f"json_object({pairs})"
    return ("INSERT INTO change_event (xid, corp_id, chain_id, object_type, object_id, kind, changed, before, at_ms) "
            f"SELECT {xid}, NULL, c.chain_id, 'CONTACT', c.id, 'UPDATED', 'member', {before}, {now} "
            f"FROM chain_contact c JOIN chain_corp k ON k.id = c.chain_corp_id WHERE c.member_id IN ({members})")


def _triggers(pg: bool) -> list[tuple[str, str, str, str, str]]:
    """(name, table, timing+event clause, WHEN condition or '', statement) for each trigger."""
    distinct = "IS DISTINCT FROM" if pg else "IS NOT"
    reach = " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in MEMBER_REACH)
    seat = f"OLD.unit_id {distinct} NEW.unit_id OR OLD.member_id {distinct} NEW.member_id"
    return [
        ("member_feed_contacts", "member", f"AFTER UPDATE OF {', '.join(MEMBER_REACH)}", reach,
         _contacts_of(pg, "NEW.id")),
        ("placement_feed_contacts_insert", "placement", "AFTER INSERT", "", _contacts_of(pg, "NEW.member_id")),
        ("placement_feed_contacts_update", "placement", "AFTER UPDATE OF unit_id, member_id", seat,
         _contacts_of(pg, "OLD.member_id, NEW.member_id")),
        ("placement_feed_contacts_delete", "placement", "AFTER DELETE", "", _contacts_of(pg, "OLD.member_id")),
    ]


def _trigger_sql(dialect: str) -> list[str]:
    pg = dialect == "postgres"
    out = []
    for name, table, clause, cond, statement in _triggers(pg):
        if pg:
            out.append(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                       f"$$ BEGIN {statement}; RETURN NULL; END $$")
            when = f" WHEN ({cond})" if cond else ""
            out.append(f"CREATE TRIGGER {name} {clause} ON {table} FOR EACH ROW{when} EXECUTE FUNCTION {name}()")
        else:
            when = f" WHEN {cond}" if cond else ""
            out.append(f"CREATE TRIGGER {name} {clause} ON {table}{when} BEGIN {statement}; END")
    return out


def _drop_sql(dialect: str) -> list[str]:
    pg = dialect == "postgres"
    out = []
    for name, table, _clause, _cond, _statement in _triggers(pg):
        out += [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"] if pg else [
            f"DROP TRIGGER IF EXISTS {name}"]
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
    dependencies = [('models', '0012_headcounts')]

    initial = False

    operations = [
        ops.RunPython(create_triggers, drop_triggers),
    ]
