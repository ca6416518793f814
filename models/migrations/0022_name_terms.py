from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Name contains-search (searchMembers) as an index lookup: member_name_term (models.MemberNameTerm)
# holds every piece of a member's name of 1 to 4 characters, ASCII letters lower-cased, so the
# members whose name contains a term of up to 4 characters are the rows of (corp_id, term), and
# a longer term's are among those of its first 4 characters. A LIKE '%term%' read every name of
# the corp (50,000 at bench scale) for every search, whatever else the term matched; pg_trgm
# would not serve the 2-character terms most Chinese name searches are.
# Kept by triggers in the transaction of every write to member (inserts, renames, deletes and
# their cascades). PostgreSQL works per statement over the transition tables (an import
# writes members in batches); SQLite row by row. ASCII letters only are lower-cased, alike on
# both (SQLite's lower() folds ASCII alone; PostgreSQL's would fold more): the search folds
# the term the same way and keeps the LIKE scan for a term holding any other cased letter.

TERM_MAX = 4
NAME_MAX = 64  # member.name's max_length: the last start of a piece SQLite tries
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"


def _pieces_postgres(rows: str) -> str:
    """The (corp_id, term, member_id) rows of the members in `rows`."""
    folded = f"translate(r.name, '{_UPPER}', '{_LOWER}')"
    return (
        f"SELECT DISTINCT r.corp_id, substr({folded}, s, l), r.id FROM {rows} r "
        f"CROSS JOIN LATERAL generate_series(1, char_length(r.name)) s CROSS JOIN generate_series(1, {TERM_MAX}) l "
        "WHERE s + l - 1 <= char_length(r.name)"
    )


def _slots_sqlite() -> str:
    starts = ", ".join(f"({i})" for i in range(1, NAME_MAX + 1))
    lengths = ", ".join(f"({i})" for i in range(1, TERM_MAX + 1))
    return (f"(SELECT column1 AS s FROM (VALUES {starts})) starts "
            f"CROSS JOIN (SELECT column1 AS l FROM (VALUES {lengths})) lengths")


def _pieces_sqlite(row: str) -> str:
    """The rows of one member (`row`: NEW), or of every member (`row`: member)."""
    source = "member CROSS JOIN " if row == "member" else ""
    return (
        f"SELECT DISTINCT {row}.corp_id, substr(lower({row}.name), s, l), {row}.id FROM {source}{_slots_sqlite()} "
        f"WHERE s + l - 1 <= length({row}.name)"
    )


INSERT = "INSERT INTO member_name_term (corp_id, term, member_id) "
RENAMED = "o.id = n.id AND (o.name IS DISTINCT FROM n.name OR o.corp_id IS DISTINCT FROM n.corp_id)"
# (trigger, event, transition tables, function, body) of each PostgreSQL statement trigger.
STATEMENT_TRIGGERS = [
    ("member_name_term_insert", "INSERT", "NEW TABLE AS new_rows", "member_name_term_of_new",
     INSERT + _pieces_postgres("new_rows")),
    ("member_name_term_update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "member_name_term_of_renamed",
     f"DELETE FROM member_name_term t USING old_rows o, new_rows n WHERE t.member_id = o.id AND {RENAMED}; "
     + INSERT + _pieces_postgres(f"(SELECT n.* FROM new_rows n JOIN old_rows o ON {RENAMED})")),
    ("member_name_term_delete", "DELETE", "OLD TABLE AS old_rows", "member_name_term_of_removed",
     "DELETE FROM member_name_term t USING old_rows o WHERE t.member_id = o.id"),
]


def _postgres() -> list[str]:
    out = []
    for trigger, event, transition, function, body in STATEMENT_TRIGGERS:
        out.append(f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql SET jit = off "
                   f"AS $$ BEGIN {body}; RETURN NULL; END $$")
        out.append(f"CREATE TRIGGER {trigger} AFTER {event} ON member REFERENCING {transition} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    return out


def _sqlite() -> list[str]:
    drop = "DELETE FROM member_name_term WHERE member_id = OLD.id"
    return [
        f"CREATE TRIGGER member_name_term_insert AFTER INSERT ON member BEGIN {INSERT}{_pieces_sqlite('NEW')}; END",
        f"CREATE TRIGGER member_name_term_delete AFTER DELETE ON member BEGIN {drop}; END",
        "CREATE TRIGGER member_name_term_update AFTER UPDATE OF name, corp_id ON member "
        "WHEN OLD.name IS NOT NEW.name OR OLD.corp_id IS NOT NEW.corp_id "
        f"BEGIN {drop}; {INSERT}{_pieces_sqlite('NEW')}; END",
    ]


async def fill_and_keep(apps, schema_editor):
    """Backfill member_name_term from today's members, then install the triggers that keep it."""
    client = schema_editor.client
    pg = client.capabilities.dialect == "postgres"
    await client.execute_script(INSERT + (_pieces_postgres("member") if pg else _pieces_sqlite("member")))
    for sql in _postgres() if pg else _sqlite():
        await client.execute_script(sql)


async def drop_triggers(apps, schema_editor):
    client = schema_editor.client
    pg = client.capabilities.dialect == "postgres"
    for trigger, *_ in STATEMENT_TRIGGERS:
        await client.execute_script(f"DROP TRIGGER IF EXISTS {trigger}" + (" ON member" if pg else ""))
    if pg:
        for _, _, _, function, _ in STATEMENT_TRIGGERS:
            await client.execute_script(f"DROP FUNCTION IF EXISTS {function}()")


class Migration(migrations.Migration):
    dependencies = [('models', '0021_filter_count_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MemberNameTerm',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('corp_id', fields.IntField()),
                ('term', fields.CharField(max_length=TERM_MAX)),
                ('member_id', fields.IntField(db_index=True)),
            ],
            options={'table': 'member_name_term', 'app': 'models',
                     'unique_together': (('corp_id', 'term', 'member_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(fill_and_keep, drop_triggers),
    ]
