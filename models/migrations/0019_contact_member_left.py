import importlib

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Whether a chain contact's linked member has left (RESIGNED or DISABLED), kept on the contact
# itself (chain_contact.member_left) by triggers in the transaction of every write, and the
# count of such contacts kept apart in contact_headcount (n_listed: the contacts of the row
# whose member has not left). SPEC §3.5 withholds those contacts from non-admin chain views
# (permissions.chain.contact_listed): the SQL twin was a NOT IN over every member that left
# (read once per statement, a hashed test per contact), and a non-admin count subtracted a
# second pass over the contacts of left members from the head-count sum. Now the filter is a
# column test on the contact row and a non-admin count sums n_listed.
# member_left is derived, never chosen: any write of it or of member_id sets it from the
# member's status (and false without a member, e.g. when deleting the member nulls the link);
# a member whose status crosses between listed (ACTIVE, PENDING) and left updates its contacts.
# PostgreSQL sets it in a BEFORE row trigger; SQLite (no writable NEW) corrects the row after
# the write. Either way the contact_headcount triggers see every change of member_left as a
# contact update and move n_listed with it.

hc = importlib.import_module("models.migrations.0017_contact_headcounts")

# The statuses of members who left: MemberStatus less permissions.scope.LISTED_STATUSES, as
# of this migration (tests/models/test_contact_headcounts.py checks they still agree).
LEFT = ("DISABLED", "RESIGNED")
LEFT_SQL = ", ".join(f"'{s}'" for s in LEFT)
# Whether member `m` (an id expression) has left: false for no member.
LEFT_OF = "COALESCE((SELECT status IN (" + LEFT_SQL + ") FROM member WHERE id = {m}), FALSE)"

KEY, COLUMNS = hc.KEY, hc.COLUMNS
LISTED = "CASE WHEN {r}.member_left THEN 0 ELSE 1 END"

CORP_MOVE = (
    "UPDATE contact_headcount SET "
    "n = n {sign} (SELECT COUNT(*) FROM chain_contact c "
    "WHERE c.chain_corp_id = {r}.id AND c.status = contact_headcount.status), "
    "n_listed = n_listed {sign} (SELECT COUNT(*) FROM chain_contact c "
    "WHERE c.chain_corp_id = {r}.id AND c.status = contact_headcount.status AND NOT c.member_left) "
    "WHERE chain_id = {r}.chain_id AND group_id = {r}.group_id AND corp_status = {r}.status"
)
CORP_ROWS = hc.CORP_ROWS.replace(", n) SELECT", ", n, n_listed) SELECT").replace("c.status, 0 ", "c.status, 0, 0 ")
# SQLite, one contact: its row created at need. Not INSERT OR IGNORE: under a foreign key's
# action (deleting a member nulls its contacts' member_id) SQLite applies the action's ABORT
# to the trigger's INSERT, so an existing row would fail the delete.
CONTACT_ROW = (
    "INSERT INTO contact_headcount (" + COLUMNS + ", n, n_listed) "
    "SELECT k.chain_id, k.group_id, k.status, {r}.status, 0, 0 FROM chain_corp k WHERE k.id = {r}.chain_corp_id "
    "AND NOT EXISTS (SELECT 1 FROM contact_headcount h WHERE h.chain_id = k.chain_id AND h.group_id = k.group_id "
    "AND h.corp_status = k.status AND h.status = {r}.status)"
)
CONTACT_MOVE = hc.CONTACT_MOVE.replace(
    "SET n = n {sign} 1", "SET n = n {sign} 1, n_listed = n_listed {sign} " + LISTED)


def _delta(sources: list[tuple[str, int]]) -> str:
    """PostgreSQL: move contact_headcount's n and n_listed by the net count per key of the
    transition tables (+1 per row of a NEW table, -1 per row of an OLD one; n_listed only for
    rows whose member has not left)."""
    parts = " UNION ALL ".join(
        f"SELECT k.chain_id, k.group_id, k.status AS corp_status, c.status, {sign} AS dn, "
        f"CASE WHEN c.member_left THEN 0 ELSE {sign} END AS dl FROM {table} c "
        "CROSS JOIN LATERAL (SELECT chain_id, group_id, status FROM chain_corp WHERE id = c.chain_corp_id OFFSET 0) k"
        for table, sign in sources
    )
    match = " AND ".join(f"h.{c} = d.{c}" for c in KEY)
    # A key whose n does not grow was counted before (its row exists): updated in place, also
    # when only n_listed moves (a contact's member left or came back).
    return (
        f"WITH d AS (SELECT {COLUMNS}, SUM(dn) AS dn, SUM(dl) AS dl FROM ({parts}) x GROUP BY {COLUMNS}), "
        f"down AS (UPDATE contact_headcount h SET n = h.n + d.dn, n_listed = h.n_listed + d.dl FROM d "
        f"WHERE {match} AND d.dn <= 0 AND (d.dn <> 0 OR d.dl <> 0)) "
        f"INSERT INTO contact_headcount ({COLUMNS}, n, n_listed) SELECT {COLUMNS}, dn, dl FROM d WHERE dn > 0 "
        f"ON CONFLICT ({COLUMNS}) DO UPDATE SET n = contact_headcount.n + EXCLUDED.n, "
        "n_listed = contact_headcount.n_listed + EXCLUDED.n_listed"
    )


STATEMENT_TRIGGERS = [(t, e, r, fn, _delta(src)) for (t, e, r, fn, _), src in zip(hc.STATEMENT_TRIGGERS, [
    [("new_rows", 1)], [("new_rows", 1), ("old_rows", -1)], [("old_rows", -1)]])]
MEMBER_CROSSED = "(OLD.status IN ({l})) {d} (NEW.status IN ({l}))"


def _headcount_postgres() -> list[str]:
    out = []
    for trigger, event, transition, function, body in STATEMENT_TRIGGERS:
        out.append(f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql SET jit = off "
                   f"AS $$ BEGIN {body}; RETURN NULL; END $$")
        out.append(f"CREATE TRIGGER {trigger} AFTER {event} ON chain_contact REFERENCING {transition} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    changed = hc.CORP_CHANGED.format(d="IS DISTINCT FROM")
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


def _member_left_postgres() -> list[str]:
    crossed = MEMBER_CROSSED.format(l=LEFT_SQL, d="IS DISTINCT FROM")
    return [
        # FOR SHARE: a link written while another transaction changes the member's status waits
        # for it and reads the status it committed; otherwise each would miss the other's write
        # (the status change's UPDATE of the member's contacts does not see the new link).
        "CREATE OR REPLACE FUNCTION contact_member_left() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"NEW.member_left := {LEFT_OF.format(m='NEW.member_id').replace('), FALSE)', ' FOR SHARE), FALSE)')}; "
        "RETURN NEW; END $$",
        # A row with no member and member_left false is right as it is (most imported contacts).
        "CREATE TRIGGER contact_member_left BEFORE INSERT OR UPDATE OF member_id, member_left ON chain_contact "
        "FOR EACH ROW WHEN (NEW.member_id IS NOT NULL OR NEW.member_left) EXECUTE FUNCTION contact_member_left()",
        "CREATE OR REPLACE FUNCTION member_contacts_left() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"UPDATE chain_contact SET member_left = (NEW.status IN ({LEFT_SQL})) WHERE member_id = NEW.id; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER member_contacts_left AFTER UPDATE OF status ON member "
        f"FOR EACH ROW WHEN ({crossed}) EXECUTE FUNCTION member_contacts_left()",
    ]


def _sqlite() -> list[str]:
    changed = hc.CORP_CHANGED.format(d="IS NOT")
    crossed = MEMBER_CROSSED.format(l=LEFT_SQL, d="IS NOT")
    # The row as it should be: an UPDATE of member_left, which the update trigger counts.
    correct = ("UPDATE chain_contact SET member_left = {left} WHERE id = NEW.id AND member_left IS NOT {left}"
               .format(left=LEFT_OF.format(m="NEW.member_id")))
    return [
        # Counted as written, then corrected (in this order: the correction's update then
        # moves a row that exists).
        "CREATE TRIGGER contact_headcount_insert AFTER INSERT ON chain_contact "
        f"BEGIN {CONTACT_ROW.format(r='NEW')}; {CONTACT_MOVE.format(sign='+', r='NEW')}; {correct}; END",
        f"CREATE TRIGGER contact_headcount_delete AFTER DELETE ON chain_contact BEGIN {CONTACT_MOVE.format(sign='-', r='OLD')}; END",
        "CREATE TRIGGER contact_headcount_update AFTER UPDATE OF status, chain_corp_id, member_left ON chain_contact "
        f"BEGIN {CONTACT_MOVE.format(sign='-', r='OLD')}; {CONTACT_ROW.format(r='NEW')}; "
        f"{CONTACT_MOVE.format(sign='+', r='NEW')}; END",
        f"CREATE TRIGGER chain_corp_contact_headcount_delete BEFORE DELETE ON chain_corp "
        f"BEGIN {CORP_MOVE.format(sign='-', r='OLD')}; END",
        "CREATE TRIGGER chain_corp_contact_headcount_update AFTER UPDATE OF chain_id, group_id, status ON chain_corp "
        f"WHEN {changed} BEGIN {CORP_MOVE.format(sign='-', r='OLD')}; INSERT OR IGNORE {CORP_ROWS.format(r='NEW')}; "
        f"{CORP_MOVE.format(sign='+', r='NEW')}; END",
        f"CREATE TRIGGER contact_member_left AFTER UPDATE OF member_id, member_left ON chain_contact BEGIN {correct}; END",
        f"CREATE TRIGGER member_contacts_left AFTER UPDATE OF status ON member WHEN {crossed} "
        f"BEGIN UPDATE chain_contact SET member_left = (NEW.status IN ({LEFT_SQL})) WHERE member_id = NEW.id; END",
    ]


MEMBER_LEFT_TRIGGERS = {
    "postgres": ("contact_member_left:chain_contact", "member_contacts_left:member"),
    "sqlite": ("contact_member_left", "member_contacts_left"),
}
MEMBER_LEFT_FUNCTIONS = ("contact_member_left", "member_contacts_left")


async def _drop(client, dialect: str, triggers, functions) -> None:
    for name in triggers:
        if dialect == "postgres":
            trigger, _, table = name.partition(":")
            await client.execute_script(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        else:
            await client.execute_script(f"DROP TRIGGER IF EXISTS {name}")
    if dialect == "postgres":
        for fn in functions:
            await client.execute_script(f"DROP FUNCTION IF EXISTS {fn}()")


async def drop_0017_triggers(apps, schema_editor):
    """Before the columns are added: 0017's head-count triggers go (fill_and_keep installs their
    successors). SQLite rebuilds a table to add or remove a column, and a trigger naming a table
    being rebuilt would fail the rebuild."""
    client = schema_editor.client
    await _drop(client, client.capabilities.dialect, hc.TRIGGERS[client.capabilities.dialect], hc.FUNCTIONS)


async def install_0017_triggers(apps, schema_editor):
    """The way back, once the columns are gone: 0017's head-count triggers."""
    client = schema_editor.client
    for statement in hc._postgres() if client.capabilities.dialect == "postgres" else hc._sqlite():
        await client.execute_script(statement)


async def drop_0019_triggers(apps, schema_editor):
    """The way back, before the columns go: this migration's triggers (member_left and the
    head-counts that move n_listed)."""
    client = schema_editor.client
    dialect = client.capabilities.dialect
    await _drop(client, dialect, MEMBER_LEFT_TRIGGERS[dialect], MEMBER_LEFT_FUNCTIONS)
    await _drop(client, dialect, hc.TRIGGERS[dialect], hc.FUNCTIONS)


async def fill_and_keep(apps, schema_editor):
    """Backfill member_left and n_listed from today's rows, then install the triggers that keep
    them (0017's head-count triggers replaced by ones that also move n_listed)."""
    client = schema_editor.client
    dialect = client.capabilities.dialect
    await _drop(client, dialect, hc.TRIGGERS[dialect], hc.FUNCTIONS)
    await client.execute_script(
        f"UPDATE chain_contact SET member_left = TRUE WHERE member_id IN (SELECT id FROM member WHERE status IN ({LEFT_SQL}))"
    )
    # Counted again from scratch (one pass, as 0017 filled it): n and n_listed.
    await client.execute_script("DELETE FROM contact_headcount")
    await client.execute_script(
        f"INSERT INTO contact_headcount ({COLUMNS}, n, n_listed) SELECT k.chain_id, k.group_id, k.status, c.status, "
        f"COUNT(*), SUM({LISTED.format(r='c')}) FROM chain_contact c JOIN chain_corp k ON k.id = c.chain_corp_id "
        "GROUP BY k.chain_id, k.group_id, k.status, c.status"
    )
    sql = (_headcount_postgres() + _member_left_postgres()) if dialect == "postgres" else _sqlite()
    for statement in sql:
        await client.execute_script(statement)


async def back_to_0017(apps, schema_editor):
    """The triggers as 0017 left them, with the columns still there (the data-step test's start)."""
    await drop_0019_triggers(apps, schema_editor)
    await install_0017_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [('models', '0018_seats_not_versioned')]

    initial = False

    operations = [
        ops.RunPython(drop_0017_triggers, install_0017_triggers),
        ops.AddField(model_name='ChainContact', name='member_left', field=fields.BooleanField(default=False, db_default=False)),
        ops.AddField(model_name='ContactHeadcount', name='n_listed', field=fields.IntField(default=0, db_default=0)),
        ops.RunPython(fill_and_keep, drop_0019_triggers),
    ]
