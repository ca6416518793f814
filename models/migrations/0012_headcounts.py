from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# Head-counts for exact totalCount / memberCount without a pass over the visible members
# (permissions.counts). Two tables, kept by triggers in the transaction of every write, so
# no write path (flows, imports, cascades, raw SQL) can miss them:
# - member_seat: one row per member (its corp, status, hidden flag), with the unit of its
#   only seat, or NULL when it has none or several; rewritten on any change to the member's
#   row or seats.
# - unit_headcount: per (corp, unit, status, hidden) the number of member_seat rows with that
#   unit; moved on every insert, update and delete of member_seat.
# A member is in one head-count row at most, so a sum over any set of units counts each
# member once; members with several seats (member_seat.unit_id IS NULL) are counted one by one.

SOLE_UNIT = "(SELECT CASE WHEN COUNT(*) = 1 THEN MIN(unit_id) END FROM placement WHERE member_id = {m})"
KEY = "corp_id = {r}.corp_id AND unit_id = {r}.unit_id AND status = {r}.status AND hidden = {r}.hidden"
DECREMENT = "UPDATE unit_headcount SET n = n - 1 WHERE " + KEY
ENSURE_ROW = {
    "postgres": "INSERT INTO unit_headcount (corp_id, unit_id, status, hidden, n) "
                "VALUES ({r}.corp_id, {r}.unit_id, {r}.status, {r}.hidden, 0) ON CONFLICT DO NOTHING",
    "sqlite": "INSERT OR IGNORE INTO unit_headcount (corp_id, unit_id, status, hidden, n) "
              "VALUES ({r}.corp_id, {r}.unit_id, {r}.status, {r}.hidden, 0)",
}
INCREMENT = "UPDATE unit_headcount SET n = n + 1 WHERE " + KEY
REFRESH_SEAT = "UPDATE member_seat SET unit_id = {sole} WHERE member_id = {m} AND unit_id IS DISTINCT FROM {sole}"
NEW_SEAT = ("INSERT INTO member_seat (member_id, corp_id, unit_id, status, hidden) "
            "VALUES (NEW.id, NEW.corp_id, {sole}, NEW.status, NEW.hidden_from_directory)")
MEMBER_CHANGED = ("OLD.corp_id IS DISTINCT FROM NEW.corp_id OR OLD.status IS DISTINCT FROM NEW.status "
                  "OR OLD.hidden_from_directory IS DISTINCT FROM NEW.hidden_from_directory")
UPDATE_SEAT = ("UPDATE member_seat SET corp_id = NEW.corp_id, status = NEW.status, "
               "hidden = NEW.hidden_from_directory WHERE member_id = NEW.id")
DELETE_SEAT = "DELETE FROM member_seat WHERE member_id = OLD.id"


def _refresh(m: str, dialect: str) -> str:
    sql = REFRESH_SEAT.format(sole=SOLE_UNIT.format(m=m), m=m)
    return sql if dialect == "postgres" else sql.replace("IS DISTINCT FROM", "IS NOT")


def _postgres() -> list[str]:
    d = "postgres"
    return [
        "CREATE OR REPLACE FUNCTION headcount_move() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN IF OLD.unit_id IS NOT NULL THEN {DECREMENT.format(r='OLD')}; END IF; END IF; "
        f"IF TG_OP <> 'DELETE' THEN IF NEW.unit_id IS NOT NULL THEN {ENSURE_ROW[d].format(r='NEW')}; "
        f"{INCREMENT.format(r='NEW')}; END IF; END IF; RETURN NULL; END $$",
        "CREATE TRIGGER member_seat_headcount AFTER INSERT OR DELETE OR UPDATE ON member_seat "
        "FOR EACH ROW EXECUTE FUNCTION headcount_move()",
        "CREATE OR REPLACE FUNCTION member_seat_of_placement() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_refresh('OLD.member_id', d)}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_refresh('NEW.member_id', d)}; END IF; RETURN NULL; END $$",
        "CREATE TRIGGER placement_member_seat AFTER INSERT OR DELETE OR UPDATE OF member_id, unit_id ON placement "
        "FOR EACH ROW EXECUTE FUNCTION member_seat_of_placement()",
        "CREATE OR REPLACE FUNCTION member_seat_of_member() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'INSERT' THEN {NEW_SEAT.format(sole=SOLE_UNIT.format(m='NEW.id'))}; "
        f"ELSIF TG_OP = 'UPDATE' THEN {UPDATE_SEAT}; "
        f"ELSE {DELETE_SEAT}; END IF; RETURN NULL; END $$",
        "CREATE TRIGGER member_member_seat_rows AFTER INSERT OR DELETE ON member "
        "FOR EACH ROW EXECUTE FUNCTION member_seat_of_member()",
        "CREATE TRIGGER member_member_seat_update AFTER UPDATE OF corp_id, status, hidden_from_directory ON member "
        f"FOR EACH ROW WHEN ({MEMBER_CHANGED}) EXECUTE FUNCTION member_seat_of_member()",
    ]


def _sqlite() -> list[str]:
    d = "sqlite"
    changed = MEMBER_CHANGED.replace("IS DISTINCT FROM", "IS NOT")
    return [
        "CREATE TRIGGER member_seat_headcount_insert AFTER INSERT ON member_seat WHEN NEW.unit_id IS NOT NULL "
        f"BEGIN {ENSURE_ROW[d].format(r='NEW')}; {INCREMENT.format(r='NEW')}; END",
        "CREATE TRIGGER member_seat_headcount_delete AFTER DELETE ON member_seat WHEN OLD.unit_id IS NOT NULL "
        f"BEGIN {DECREMENT.format(r='OLD')}; END",
        "CREATE TRIGGER member_seat_headcount_update_old AFTER UPDATE ON member_seat WHEN OLD.unit_id IS NOT NULL "
        f"BEGIN {DECREMENT.format(r='OLD')}; END",
        "CREATE TRIGGER member_seat_headcount_update_new AFTER UPDATE ON member_seat WHEN NEW.unit_id IS NOT NULL "
        f"BEGIN {ENSURE_ROW[d].format(r='NEW')}; {INCREMENT.format(r='NEW')}; END",
        f"CREATE TRIGGER placement_member_seat_insert AFTER INSERT ON placement BEGIN {_refresh('NEW.member_id', d)}; END",
        f"CREATE TRIGGER placement_member_seat_delete AFTER DELETE ON placement BEGIN {_refresh('OLD.member_id', d)}; END",
        "CREATE TRIGGER placement_member_seat_update AFTER UPDATE OF member_id, unit_id ON placement "
        f"BEGIN {_refresh('OLD.member_id', d)}; {_refresh('NEW.member_id', d)}; END",
        "CREATE TRIGGER member_member_seat_insert AFTER INSERT ON member "
        f"BEGIN {NEW_SEAT.format(sole=SOLE_UNIT.format(m='NEW.id'))}; END",
        f"CREATE TRIGGER member_member_seat_update AFTER UPDATE OF corp_id, status, hidden_from_directory ON member "
        f"WHEN {changed} BEGIN {UPDATE_SEAT}; END",
        f"CREATE TRIGGER member_member_seat_delete AFTER DELETE ON member BEGIN {DELETE_SEAT}; END",
    ]


TRIGGERS = {
    "postgres": ("member_seat_headcount:member_seat", "placement_member_seat:placement",
                 "member_member_seat_rows:member", "member_member_seat_update:member"),
    "sqlite": ("member_seat_headcount_insert", "member_seat_headcount_delete", "member_seat_headcount_update_old",
               "member_seat_headcount_update_new", "placement_member_seat_insert", "placement_member_seat_delete",
               "placement_member_seat_update", "member_member_seat_insert", "member_member_seat_update",
               "member_member_seat_delete"),
}


async def fill_and_keep(apps, schema_editor):
    """Backfill both tables from today's rows, then install the triggers that keep them."""
    client = schema_editor.client
    dialect = client.capabilities.dialect
    await client.execute_script(
        "INSERT INTO member_seat (member_id, corp_id, unit_id, status, hidden) "
        f"SELECT m.id, m.corp_id, {SOLE_UNIT.format(m='m.id')}, m.status, m.hidden_from_directory FROM member m"
    )
    await client.execute_script(
        "INSERT INTO unit_headcount (corp_id, unit_id, status, hidden, n) "
        "SELECT corp_id, unit_id, status, hidden, COUNT(*) FROM member_seat WHERE unit_id IS NOT NULL "
        "GROUP BY corp_id, unit_id, status, hidden"
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
        for fn in ("headcount_move", "member_seat_of_placement", "member_seat_of_member"):
            await client.execute_script(f"DROP FUNCTION IF EXISTS {fn}()")


class Migration(migrations.Migration):
    dependencies = [('models', '0011_change_feed')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MemberSeat',
            fields=[
                ('member_id', fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ('corp_id', fields.IntField()),
                ('unit_id', fields.IntField(null=True)),
                ('status', fields.CharField(max_length=16)),
                ('hidden', fields.BooleanField()),
            ],
            options={'table': 'member_seat', 'app': 'models', 'indexes': [Index(fields=['corp_id', 'unit_id'])],
                     'pk_attr': 'member_id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UnitHeadcount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('corp_id', fields.IntField()),
                ('unit_id', fields.IntField()),
                ('status', fields.CharField(max_length=16)),
                ('hidden', fields.BooleanField()),
                ('n', fields.IntField(default=0)),
            ],
            options={'table': 'unit_headcount', 'app': 'models',
                     'unique_together': (('corp_id', 'unit_id', 'status', 'hidden'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(fill_and_keep, drop_triggers),
    ]
