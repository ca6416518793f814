from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# The members no head-count holds (models.SharedSeat), for exact counts (permissions.counts
# part 2): counting them by testing each of the corp's members with no or several seats
# (member_seat.unit_id IS NULL: 6,162 of 50,000 at bench scale) cost a scoped members page
# 9 ms of PostgreSQL time; from these rows, found by the (corp_id, unit_id) index under the
# units a scope lists, under 1 ms.
# One row per seat of a member with two seats or more, and one row with no unit for a member
# with no seat (a list that does not test units shows it), each with the member's corp,
# status and hidden flag; no rows for a member with exactly one seat (its head-count row
# holds it). Kept by triggers in the transaction of every write to `placement` or `member`.
# A member's rows are rewritten from `placement` and `member` themselves (not from
# member_seat), so the order in which the triggers of one write fire does not matter.

MEMBER_ROWS = "DELETE FROM shared_seat WHERE member_id {match}"
SEAT_ROWS = (
    "INSERT INTO shared_seat (member_id, corp_id, unit_id, status, hidden) "
    "SELECT m.id, m.corp_id, p.unit_id, m.status, m.hidden_from_directory "
    "FROM member m LEFT JOIN placement p ON p.member_id = m.id "
    "WHERE m.id {match} AND (SELECT COUNT(*) FROM placement o WHERE o.member_id = m.id) <> 1 "
    "ORDER BY m.id, p.id"
)
MEMBER_CHANGED = ("OLD.corp_id {d} NEW.corp_id OR OLD.status {d} NEW.status "
                  "OR OLD.hidden_from_directory {d} NEW.hidden_from_directory")
MEMBER_FACTS = ("UPDATE shared_seat SET corp_id = NEW.corp_id, status = NEW.status, "
                "hidden = NEW.hidden_from_directory WHERE member_id = NEW.id")
MEMBER_GONE = "DELETE FROM shared_seat WHERE member_id = OLD.id"
# A batch of seats or members (PostgreSQL statement triggers): its members, listed, drive both
# statements (as in 0014: stale statistics cannot turn them into joins over the whole table).
NEW_SEATS = "= ANY (ARRAY(SELECT DISTINCT member_id FROM new_rows))"
NEW_MEMBERS = "= ANY (ARRAY(SELECT id FROM new_rows))"


def rewrite(match: str) -> str:
    """The statements that rewrite the shared_seat rows of the members `match` selects."""
    return f"{MEMBER_ROWS.format(match=match)}; {SEAT_ROWS.format(match=match)}"


def _postgres() -> list[str]:
    changed = MEMBER_CHANGED.format(d="IS DISTINCT FROM")
    return [
        "CREATE OR REPLACE FUNCTION shared_seat_of_placement() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {rewrite('= OLD.member_id')}; END IF; "
        f"IF TG_OP = 'UPDATE' THEN {rewrite('= NEW.member_id')}; END IF; RETURN NULL; END $$",
        "CREATE TRIGGER placement_shared_seat AFTER DELETE OR UPDATE OF member_id, unit_id ON placement "
        "FOR EACH ROW EXECUTE FUNCTION shared_seat_of_placement()",
        "CREATE OR REPLACE FUNCTION shared_seat_of_new_placements() RETURNS trigger LANGUAGE plpgsql SET jit = off "
        f"AS $$ BEGIN {rewrite(NEW_SEATS)}; RETURN NULL; END $$",
        "CREATE TRIGGER placement_shared_seat_insert AFTER INSERT ON placement REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION shared_seat_of_new_placements()",
        "CREATE OR REPLACE FUNCTION shared_seat_of_new_members() RETURNS trigger LANGUAGE plpgsql SET jit = off "
        f"AS $$ BEGIN {rewrite(NEW_MEMBERS)}; RETURN NULL; END $$",
        "CREATE TRIGGER member_shared_seat_insert AFTER INSERT ON member REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION shared_seat_of_new_members()",
        "CREATE OR REPLACE FUNCTION shared_seat_of_member() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'UPDATE' THEN {MEMBER_FACTS}; ELSE {MEMBER_GONE}; END IF; RETURN NULL; END $$",
        "CREATE TRIGGER member_shared_seat_update AFTER UPDATE OF corp_id, status, hidden_from_directory ON member "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION shared_seat_of_member()",
        "CREATE TRIGGER member_shared_seat_delete AFTER DELETE ON member "
        "FOR EACH ROW EXECUTE FUNCTION shared_seat_of_member()",
    ]


def _sqlite() -> list[str]:
    changed = MEMBER_CHANGED.format(d="IS NOT")
    return [
        f"CREATE TRIGGER placement_shared_seat_insert AFTER INSERT ON placement BEGIN {rewrite('= NEW.member_id')}; END",
        f"CREATE TRIGGER placement_shared_seat_delete AFTER DELETE ON placement BEGIN {rewrite('= OLD.member_id')}; END",
        "CREATE TRIGGER placement_shared_seat_update AFTER UPDATE OF member_id, unit_id ON placement "
        f"BEGIN {rewrite('= OLD.member_id')}; {rewrite('= NEW.member_id')}; END",
        "CREATE TRIGGER member_shared_seat_update AFTER UPDATE OF corp_id, status, hidden_from_directory ON member "
        f"WHEN {changed} BEGIN {MEMBER_FACTS}; END",
        f"CREATE TRIGGER member_shared_seat_delete AFTER DELETE ON member BEGIN {MEMBER_GONE}; END",
        f"CREATE TRIGGER member_shared_seat_insert AFTER INSERT ON member BEGIN {rewrite('= NEW.id')}; END",
    ]


TRIGGERS = {
    "postgres": ("placement_shared_seat:placement", "placement_shared_seat_insert:placement",
                 "member_shared_seat_insert:member", "member_shared_seat_update:member",
                 "member_shared_seat_delete:member"),
    "sqlite": ("placement_shared_seat_insert", "placement_shared_seat_delete", "placement_shared_seat_update",
               "member_shared_seat_insert", "member_shared_seat_update", "member_shared_seat_delete"),
}
FUNCTIONS = ("shared_seat_of_placement", "shared_seat_of_new_placements", "shared_seat_of_new_members",
             "shared_seat_of_member")


async def fill_and_keep(apps, schema_editor):
    """Backfill shared_seat from today's rows, then install the triggers that keep it."""
    client = schema_editor.client
    dialect = client.capabilities.dialect
    await client.execute_script(SEAT_ROWS.format(match="IS NOT NULL"))
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
    dependencies = [('models', '0015_contact_member_status')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SharedSeat',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.IntField()),
                ('corp_id', fields.IntField()),
                ('unit_id', fields.IntField(null=True)),
                ('status', fields.CharField(max_length=16)),
                ('hidden', fields.BooleanField()),
            ],
            options={'table': 'shared_seat', 'app': 'models',
                     'indexes': [Index(fields=['corp_id', 'unit_id']), Index(fields=['member_id'])],
                     'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(fill_and_keep, drop_triggers),
    ]
