from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# Chain corp counts (models.ChainCorpHeadcount): per (chain, group, status) the number of chain
# corps, so a corps list's totalCount sums the few rows its selectors name
# (permissions.chain.chain_corp_count_parts) where COUNT(*) read every corp a super admin or
# a group admin sees (100,000 / 20,000 at bench scale: 27-42 ms of PostgreSQL time a page).
# Kept by triggers in the transaction of every write to chain_corp (inserts, deletes and their
# cascades, moves to another group, status or chain). PostgreSQL counts a statement's corps at
# once (statement triggers over the transition tables, as 0017 does for contacts: an import
# writes corps in batches); SQLite row by row.
# The (chain_id, status, group_id) index of chain_corp gains id, so that the JOINED corps of a
# rule's groups (a non-admin contact list's corp subquery) come from the index alone.

KEY = ("chain_id", "group_id", "status")
COLUMNS = ", ".join(KEY)


def _delta(sources: list[tuple[str, int]]) -> str:
    """PostgreSQL: move chain_corp_headcount by the net count per key of the transition tables."""
    parts = " UNION ALL ".join(f"SELECT {COLUMNS}, {sign} AS dn FROM {table}" for table, sign in sources)
    match = " AND ".join(f"h.{c} = d.{c}" for c in KEY)
    return (
        f"WITH d AS (SELECT {COLUMNS}, SUM(dn) AS dn FROM ({parts}) x GROUP BY {COLUMNS}), "
        f"down AS (UPDATE chain_corp_headcount h SET n = h.n + d.dn FROM d WHERE {match} AND d.dn < 0) "
        f"INSERT INTO chain_corp_headcount ({COLUMNS}, n) SELECT {COLUMNS}, dn FROM d WHERE dn > 0 "
        f"ON CONFLICT ({COLUMNS}) DO UPDATE SET n = chain_corp_headcount.n + EXCLUDED.n"
    )


# (trigger, event, transition tables, function, sources) of each PostgreSQL statement trigger.
STATEMENT_TRIGGERS = [
    ("chain_corp_headcount_insert", "INSERT", "NEW TABLE AS new_rows", "chain_corp_headcount_of_new", [("new_rows", 1)]),
    ("chain_corp_headcount_update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
     "chain_corp_headcount_of_changed", [("new_rows", 1), ("old_rows", -1)]),
    ("chain_corp_headcount_delete", "DELETE", "OLD TABLE AS old_rows", "chain_corp_headcount_of_removed",
     [("old_rows", -1)]),
]
# SQLite, one corp: its row created at need (not INSERT OR IGNORE, which a foreign key's
# action would turn into ABORT), then moved by one.
ROW = (
    f"INSERT INTO chain_corp_headcount ({COLUMNS}, n) SELECT {{r}}.chain_id, {{r}}.group_id, {{r}}.status, 0 "
    "WHERE NOT EXISTS (SELECT 1 FROM chain_corp_headcount h WHERE h.chain_id = {r}.chain_id "
    "AND h.group_id = {r}.group_id AND h.status = {r}.status)"
)
MOVE = ("UPDATE chain_corp_headcount SET n = n {sign} 1 "
        "WHERE chain_id = {r}.chain_id AND group_id = {r}.group_id AND status = {r}.status")
CHANGED = "OLD.chain_id IS NOT NEW.chain_id OR OLD.group_id IS NOT NEW.group_id OR OLD.status IS NOT NEW.status"


def _postgres() -> list[str]:
    out = []
    for trigger, event, transition, function, sources in STATEMENT_TRIGGERS:
        out.append(f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql SET jit = off "
                   f"AS $$ BEGIN {_delta(sources)}; RETURN NULL; END $$")
        out.append(f"CREATE TRIGGER {trigger} AFTER {event} ON chain_corp REFERENCING {transition} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    return out


def _sqlite() -> list[str]:
    return [
        "CREATE TRIGGER chain_corp_headcount_insert AFTER INSERT ON chain_corp "
        f"BEGIN {ROW.format(r='NEW')}; {MOVE.format(sign='+', r='NEW')}; END",
        f"CREATE TRIGGER chain_corp_headcount_delete AFTER DELETE ON chain_corp BEGIN {MOVE.format(sign='-', r='OLD')}; END",
        f"CREATE TRIGGER chain_corp_headcount_update AFTER UPDATE OF chain_id, group_id, status ON chain_corp WHEN {CHANGED} "
        f"BEGIN {MOVE.format(sign='-', r='OLD')}; {ROW.format(r='NEW')}; {MOVE.format(sign='+', r='NEW')}; END",
    ]


async def fill_and_keep(apps, schema_editor):
    """Backfill chain_corp_headcount from today's rows, then install the triggers that keep it."""
    client = schema_editor.client
    await client.execute_script(
        f"INSERT INTO chain_corp_headcount ({COLUMNS}, n) SELECT {COLUMNS}, COUNT(*) FROM chain_corp GROUP BY {COLUMNS}")
    for sql in _postgres() if client.capabilities.dialect == "postgres" else _sqlite():
        await client.execute_script(sql)


async def drop_triggers(apps, schema_editor):
    client = schema_editor.client
    pg = client.capabilities.dialect == "postgres"
    for trigger, *_ in STATEMENT_TRIGGERS:
        await client.execute_script(f"DROP TRIGGER IF EXISTS {trigger}" + (" ON chain_corp" if pg else ""))
    if pg:
        for _, _, _, function, _ in STATEMENT_TRIGGERS:
            await client.execute_script(f"DROP FUNCTION IF EXISTS {function}()")


class Migration(migrations.Migration):
    dependencies = [('models', '0019_contact_member_left')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChainCorpHeadcount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('chain_id', fields.IntField()),
                ('group_id', fields.IntField()),
                ('status', fields.CharField(max_length=16)),
                ('n', fields.IntField(default=0)),
            ],
            options={'table': 'chain_corp_headcount', 'app': 'models',
                     'unique_together': (('chain_id', 'group_id', 'status'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(fill_and_keep, drop_triggers),
        ops.RemoveIndex(model_name='ChainCorp', name=None, fields=['chain_id', 'status', 'group_id']),
        ops.AddIndex(model_name='ChainCorp', index=Index(fields=['chain_id', 'status', 'group_id', 'id'])),
    ]
