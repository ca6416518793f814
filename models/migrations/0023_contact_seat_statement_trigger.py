import importlib

from tortoise import migrations
from tortoise.migrations import operations as ops

# PostgreSQL: a new seat's CONTACT change rows (0013, 0015: one 'member' UPDATED row per
# chain contact of the seat's member) as a statement-level trigger over the statement's
# transition table, as 0014 did for the seat's own feed row and head-counts. The row trigger
# ran once per placement row: a plpgsql call and its lookup for every member a directory
# import places, ~0.4 ms of the database's CPU each (a third of what the database spends on
# a 100,000-row import, for members that have no contacts yet). Now one set-based INSERT per
# batch. The rows written are the ones the row trigger wrote, in the same order: per new seat
# in id order, one per contact of its member. SQLite has no transition tables: its row
# trigger stays as it is.

contact_feed = importlib.import_module("models.migrations.0015_contact_member_status")
feed = importlib.import_module("models.migrations.0011_change_feed")

NAME = "placement_feed_contacts_insert"
XID = "pg_current_xact_id()::text::bigint"
NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint"
CHANGE_COLUMNS = "xid, corp_id, chain_id, object_type, object_id, kind, changed, before, at_ms"
# The contacts are looked up per seat (LATERAL ... OFFSET 0, as 0014's statements do), so that
# the statistics of tables an import is still filling cannot turn the lookup into a hash join
# over every contact.
CONTACTS_OF_NEW_SEATS = (
    f"INSERT INTO change_event ({CHANGE_COLUMNS}) "
    f"SELECT {XID}, NULL, x.chain_id, 'CONTACT', x.id, 'UPDATED', 'member', x.before, {NOW_MS} "
    "FROM new_rows n CROSS JOIN LATERAL ("
    "SELECT c.id, c.chain_id, json_build_object('s', c.status, 'm', c.member_id, 'c', c.chain_corp_id, "
    "'cs', k.status, 'g', k.group_id, 'ms', (SELECT status FROM member WHERE id = c.member_id))::text AS before "
    "FROM chain_contact c JOIN chain_corp k ON k.id = c.chain_corp_id WHERE c.member_id = n.member_id "
    "ORDER BY c.id OFFSET 0) x ORDER BY n.id, x.id"
)


def _forward() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {NAME} ON placement",
        f"CREATE OR REPLACE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql SET jit = off AS "
        f"$$ BEGIN {CONTACTS_OF_NEW_SEATS}; RETURN NULL; END $$",
        f"CREATE TRIGGER {NAME} AFTER INSERT ON placement REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {NAME}()",
    ]


def _backward() -> list[str]:
    """The row trigger as 0015 wrote it."""
    d = feed._Dialect("postgres")
    row = [t for t in contact_feed._triggers(d) if t[0] == NAME]
    return [f"DROP TRIGGER IF EXISTS {NAME} ON placement", *contact_feed._sql(d, row)]


async def statement_trigger(apps, schema_editor):
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for sql in _forward():
            await client.execute_script(sql)


async def row_trigger(apps, schema_editor):
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for sql in _backward():
            await client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('models', '0022_name_terms')]

    initial = False

    operations = [
        ops.RunPython(statement_trigger, row_trigger),
    ]
