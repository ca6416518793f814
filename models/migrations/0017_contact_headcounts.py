from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Chain contact counts (models.ContactHeadcount): per (chain, group, chain corp status,
# contact status) the number of contacts, so a contact list's totalCount sums the few rows
# its selectors name (permissions.chain.contact_count_parts) where COUNT(*) read every
# contact a whole-chain admin or a group admin sees (290,000 / 58,000 at bench scale:
# 90-150 ms of PostgreSQL time a page). Kept by triggers in the transaction of every write:
# - a contact inserted, deleted, or moved to another status or corp: its key is read from its
#   chain corp (a contact whose corp is being deleted is skipped: the corp's delete took its
#   contacts off first);
# - a chain corp moved to another group, status or chain: its contacts' counts move with it;
#   a chain corp deleted: its contacts come off before the cascade deletes them.
# PostgreSQL counts a statement's contacts at once (statement triggers over the transition
# tables, as migration 0014 does for imports); SQLite row by row.

KEY = ("chain_id", "group_id", "corp_status", "status")
COLUMNS = ", ".join(KEY)
# A corp's contacts by status, added to (+) or taken off (-) the rows of the corp's key.
CORP_MOVE = (
    "UPDATE contact_headcount SET n = n {sign} (SELECT COUNT(*) FROM chain_contact c "
    "WHERE c.chain_corp_id = {r}.id AND c.status = contact_headcount.status) "
    "WHERE chain_id = {r}.chain_id AND group_id = {r}.group_id AND corp_status = {r}.status"
)
CORP_ROWS = (
    "INTO contact_headcount (" + COLUMNS + ", n) SELECT DISTINCT {r}.chain_id, {r}.group_id, {r}.status, c.status, 0 "
    "FROM chain_contact c WHERE c.chain_corp_id = {r}.id"
)
CORP_CHANGED = "OLD.chain_id {d} NEW.chain_id OR OLD.group_id {d} NEW.group_id OR OLD.status {d} NEW.status"
# SQLite, one contact: its row created at need, then moved by one.
CONTACT_ROW = (
    "INSERT OR IGNORE INTO contact_headcount (" + COLUMNS + ", n) "
    "SELECT k.chain_id, k.group_id, k.status, {r}.status, 0 FROM chain_corp k WHERE k.id = {r}.chain_corp_id"
)
CONTACT_MOVE = (
    "UPDATE contact_headcount SET n = n {sign} 1 WHERE (" + COLUMNS + ") = "
    "(SELECT k.chain_id, k.group_id, k.status, {r}.status FROM chain_corp k WHERE k.id = {r}.chain_corp_id)"
)


def _delta(sources: list[tuple[str, int]]) -> str:
    """PostgreSQL: move contact_headcount by the net count per key of the transition tables
    (+1 per row of a NEW table, -1 per row of an OLD one), each row's key read from its corp
    (a correlated lookup, as in 0014: stale statistics cannot make it a join over every corp)."""
    parts = " UNION ALL ".join(
        f"SELECT k.chain_id, k.group_id, k.status AS corp_status, c.status, {sign} AS dn FROM {table} c "
        "CROSS JOIN LATERAL (SELECT chain_id, group_id, status FROM chain_corp WHERE id = c.chain_corp_id OFFSET 0) k"
        for table, sign in sources
    )
    match = " AND ".join(f"h.{c} = d.{c}" for c in KEY)
    return (
        f"WITH d AS (SELECT {COLUMNS}, SUM(dn) AS dn FROM ({parts}) x GROUP BY {COLUMNS}), "
        f"down AS (UPDATE contact_headcount h SET n = h.n + d.dn FROM d WHERE {match} AND d.dn < 0) "
        f"INSERT INTO contact_headcount ({COLUMNS}, n) SELECT {COLUMNS}, dn FROM d WHERE dn > 0 "
        f"ON CONFLICT ({COLUMNS}) DO UPDATE SET n = contact_headcount.n + EXCLUDED.n"
    )


# (trigger, event, transition tables, function, body) of each PostgreSQL statement trigger on chain_contact.
STATEMENT_TRIGGERS = [
    ("contact_headcount_insert", "INSERT", "NEW TABLE AS new_rows", "contact_headcount_of_new_contacts",
     _delta([("new_rows", 1)])),
    ("contact_headcount_update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
     "contact_headcount_of_changed_contacts", _delta([("new_rows", 1), ("old_rows", -1)])),
    ("contact_headcount_delete", "DELETE", "OLD TABLE AS old_rows", "contact_headcount_of_removed_contacts",
     _delta([("old_rows", -1)])),
]


def _postgres() -> list[str]:
    out = []
    for trigger, event, transition, function, body in STATEMENT_TRIGGERS:
        out.append(f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql SET jit = off "
                   f"AS $$ BEGIN {body}; RETURN NULL; END $$")
        out.append(f"CREATE TRIGGER {trigger} AFTER {event} ON chain_contact REFERENCING {transition} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    changed = CORP_CHANGED.format(d="IS DISTINCT FROM")
    out += [
        "CREATE OR REPLACE FUNCTION contact_headcount_of_corp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{CORP_MOVE.format(sign='-', r='OLD')}; "
        f"IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; "
        f"INSERT {CORP_ROWS.format(r='NEW')} ON CONFLICT DO NOTHING; {CORP_MOVE.format(sign='+', r='NEW')}; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER chain_corp_contact_headcount_delete BEFORE DELETE ON chain_corp "
        "FOR EACH ROW EXECUTE FUNCTION contact_headcount_of_corp()",
        "CREATE TRIGGER chain_corp_contact_headcount_update AFTER UPDATE OF chain_id, group_id, status ON chain_corp "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION contact_headcount_of_corp()",
    ]
    return out


def _sqlite() -> list[str]:
    changed = CORP_CHANGED.format(d="IS NOT")
    return [
        "CREATE TRIGGER contact_headcount_insert AFTER INSERT ON chain_contact "
        f"BEGIN {CONTACT_ROW.format(r='NEW')}; {CONTACT_MOVE.format(sign='+', r='NEW')}; END",
        f"CREATE TRIGGER contact_headcount_delete AFTER DELETE ON chain_contact BEGIN {CONTACT_MOVE.format(sign='-', r='OLD')}; END",
        "CREATE TRIGGER contact_headcount_update AFTER UPDATE OF status, chain_corp_id ON chain_contact "
        f"BEGIN {CONTACT_MOVE.format(sign='-', r='OLD')}; {CONTACT_ROW.format(r='NEW')}; "
        f"{CONTACT_MOVE.format(sign='+', r='NEW')}; END",
        f"CREATE TRIGGER chain_corp_contact_headcount_delete BEFORE DELETE ON chain_corp "
        f"BEGIN {CORP_MOVE.format(sign='-', r='OLD')}; END",
        "CREATE TRIGGER chain_corp_contact_headcount_update AFTER UPDATE OF chain_id, group_id, status ON chain_corp "
        f"WHEN {changed} BEGIN {CORP_MOVE.format(sign='-', r='OLD')}; INSERT OR IGNORE {CORP_ROWS.format(r='NEW')}; "
        f"{CORP_MOVE.format(sign='+', r='NEW')}; END",
    ]


TRIGGERS = {
    "postgres": ("contact_headcount_insert:chain_contact", "contact_headcount_update:chain_contact",
                 "contact_headcount_delete:chain_contact", "chain_corp_contact_headcount_delete:chain_corp",
                 "chain_corp_contact_headcount_update:chain_corp"),
    "sqlite": ("contact_headcount_insert", "contact_headcount_delete", "contact_headcount_update",
               "chain_corp_contact_headcount_delete", "chain_corp_contact_headcount_update"),
}
FUNCTIONS = ("contact_headcount_of_new_contacts", "contact_headcount_of_changed_contacts",
             "contact_headcount_of_removed_contacts", "contact_headcount_of_corp")


async def fill_and_keep(apps, schema_editor):
    """Backfill contact_headcount from today's rows, then install the triggers that keep it."""
    client = schema_editor.client
    dialect = client.capabilities.dialect
    await client.execute_script(
        f"INSERT INTO contact_headcount ({COLUMNS}, n) SELECT k.chain_id, k.group_id, k.status, c.status, COUNT(*) "
        "FROM chain_contact c JOIN chain_corp k ON k.id = c.chain_corp_id GROUP BY k.chain_id, k.group_id, k.status, c.status"
    )
    for sql in _postgres() if dialect == "postgres" else _sqlite():
        await client.execute_script(sql)


async def drop_triggers(apps, schema_editor):
    client = schema_editor.client
    dialect = client.capabilities.dialect
    for name in TRIGGERS[dialect]:
        if dialect == "postgres":
            trigger, _, table = name.partition(":")
            await client.execute_script(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        else:
            await client.execute_script(f"DROP TRIGGER IF EXISTS {name}")
    if dialect == "postgres":
        for fn in FUNCTIONS:
            await client.execute_script(f"DROP FUNCTION IF EXISTS {fn}()")


class Migration(migrations.Migration):
    dependencies = [('models', '0016_shared_seats')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ContactHeadcount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('chain_id', fields.IntField()),
                ('group_id', fields.IntField()),
                ('corp_status', fields.CharField(max_length=16)),
                ('status', fields.CharField(max_length=16)),
                ('n', fields.IntField(default=0)),
            ],
            options={'table': 'contact_headcount', 'app': 'models',
                     'unique_together': (('chain_id', 'group_id', 'corp_status', 'status'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(fill_and_keep, drop_triggers),
    ]
