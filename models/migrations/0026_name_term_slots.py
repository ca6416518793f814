import importlib

from tortoise import migrations
from tortoise.migrations import operations as ops

# SQLite: 0022's row triggers found a name's pieces by testing all 64 x 4 (start, length)
# pairs against the name's length, sorting the survivors for DISTINCT — for every member a
# directory import inserts: two thirds of what SQLite spent inserting a member (~0.45 ms of
# ~0.7 ms; the bench file's 3-character names have 6 pieces). The pairs now live in a small
# table, keyed by the piece's last character (`e` = s + l - 1), so a name of n characters
# reads the pairs with e <= n out of the key instead (3.5x less for the trigger). The pieces,
# and so the kept rows, are the same; the rule stays in 0022 (TERM_MAX, NAME_MAX, the
# folding). PostgreSQL works per statement (0022) and is left as it is.

terms = importlib.import_module("models.migrations.0022_name_terms")

SLOTS = "name_term_slot"


def _pieces(row: str) -> str:
    """The (corp_id, term, member_id) rows of one member (`row`: NEW)."""
    return (
        f"SELECT DISTINCT {row}.corp_id, substr(lower({row}.name), s, l), {row}.id FROM {SLOTS} "
        f"WHERE e <= length({row}.name)"
    )


def _forward() -> list[str]:
    drop = "DELETE FROM member_name_term WHERE member_id = OLD.id"
    return [
        f"CREATE TABLE {SLOTS} (e INT NOT NULL, s INT NOT NULL, l INT NOT NULL, PRIMARY KEY (e, s, l)) WITHOUT ROWID",
        f"INSERT INTO {SLOTS} (e, s, l) SELECT s + l - 1, s, l FROM {terms._slots_sqlite()}",
        "DROP TRIGGER IF EXISTS member_name_term_insert",
        "DROP TRIGGER IF EXISTS member_name_term_update",
        f"CREATE TRIGGER member_name_term_insert AFTER INSERT ON member BEGIN {terms.INSERT}{_pieces('NEW')}; END",
        "CREATE TRIGGER member_name_term_update AFTER UPDATE OF name, corp_id ON member "
        "WHEN OLD.name IS NOT NEW.name OR OLD.corp_id IS NOT NEW.corp_id "
        f"BEGIN {drop}; {terms.INSERT}{_pieces('NEW')}; END",
    ]


def _backward() -> list[str]:
    """0022's triggers again (its delete trigger was never replaced)."""
    kept = [sql for sql in terms._sqlite() if "member_name_term_delete" not in sql]
    return [
        "DROP TRIGGER IF EXISTS member_name_term_insert",
        "DROP TRIGGER IF EXISTS member_name_term_update",
        *kept,
        f"DROP TABLE IF EXISTS {SLOTS}",
    ]


async def slot_triggers(apps, schema_editor):
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        for sql in _forward():
            await client.execute_script(sql)


async def scan_triggers(apps, schema_editor):
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        for sql in _backward():
            await client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [("models", "0025_filter_indexes_carry_id")]

    initial = False

    operations = [
        ops.RunPython(slot_triggers, scan_triggers),
    ]
