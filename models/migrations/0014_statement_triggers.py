from tortoise import migrations
from tortoise.migrations import operations as ops

# PostgreSQL: the insert paths of the change feed (0011) and of the head-counts (0012) as
# statement-level triggers over the statement's transition table: one set-based INSERT or
# UPDATE per statement instead of one per row. An import inserts a batch of members and of
# seats as one statement each (models.bulk.insert_rows), so a batch costs a handful of
# statements, and the head-count rows of a unit are moved once per batch, not once per member
# (a row updated a thousand times in one transaction leaves a thousand versions to walk past).
# The rows written are the ones the row triggers wrote, in the same order, as if the
# statement's rows had been inserted one at a time in id order (a seat's `before` lists the
# member's other seats that existed before it). Updates and deletes stay row triggers.
# SQLite has no transition tables: its row triggers stay as they are.

XID = "pg_current_xact_id()::text::bigint"
NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint"
CHANGE_COLUMNS = "xid, corp_id, chain_id, object_type, object_id, kind, changed, before, at_ms"
SOLE_UNIT = "(SELECT CASE WHEN COUNT(*) = 1 THEN MIN(unit_id) END FROM placement WHERE member_id = {m})"
KEY = ("corp_id", "unit_id", "status", "hidden")
# A batch's statements cost a few milliseconds; estimated against the statistics of tables an
# import is still filling (a member's seats: hundreds), they pass the JIT threshold and
# PostgreSQL spends ~0.6 s compiling each. The lookups by key are written as correlated
# subqueries (LATERAL ... OFFSET 0, = ANY (ARRAY(...))) so that stale statistics cannot turn
# them into hash joins over the whole member or member_seat table.
STATEMENT_SETTINGS = "SET jit = off "

MEMBER_FEED = (
    f"INSERT INTO change_event ({CHANGE_COLUMNS}) "
    f"SELECT {XID}, n.corp_id, NULL, 'MEMBER', n.id, 'CREATED', NULL, NULL, {NOW_MS} FROM new_rows n ORDER BY n.id"
)
# The member's seats other than this one's unit that a row-by-row insert would have seen:
# the ones there before the statement, and the statement's own with a smaller id.
SEAT_FEED = (
    f"INSERT INTO change_event ({CHANGE_COLUMNS}) "
    f"SELECT {XID}, m.corp_id, NULL, 'MEMBER', m.id, 'UPDATED', 'departments', "
    "json_build_object('s', m.status, 'h', m.hidden_from_directory, 'u', "
    "(SELECT string_agg(u.path, ' ') FROM placement p JOIN org_unit u ON u.id = p.unit_id "
    "WHERE p.member_id = n.member_id AND p.unit_id <> n.unit_id "
    "AND (p.id < n.id OR p.id NOT IN (SELECT id FROM new_rows))))::text, "
    f"{NOW_MS} FROM new_rows n CROSS JOIN LATERAL (SELECT id, corp_id, status, hidden_from_directory "
    "FROM member WHERE id = n.member_id OFFSET 0) m ORDER BY n.id"
)
NEW_MEMBER_SEATS = (
    "INSERT INTO member_seat (member_id, corp_id, unit_id, status, hidden) "
    f"SELECT n.id, n.corp_id, {SOLE_UNIT.format(m='n.id')}, n.status, n.hidden_from_directory "
    "FROM new_rows n ORDER BY n.id"
)
NEW_PLACEMENT_SEATS = (
    f"UPDATE member_seat s SET unit_id = {SOLE_UNIT.format(m='s.member_id')} "
    "WHERE s.member_id = ANY (ARRAY(SELECT DISTINCT member_id FROM new_rows)) "
    f"AND s.unit_id IS DISTINCT FROM {SOLE_UNIT.format(m='s.member_id')}"
)


def _headcount_delta(sources: list[tuple[str, int]]) -> str:
    """Move unit_headcount by the net count per key of the given transition tables
    (+1 per row of a NEW table, -1 per row of an OLD one): rows going down are updated,
    rows going up are created at need (as the row trigger's ENSURE_ROW + INCREMENT did)."""
    cols = ", ".join(KEY)
    parts = " UNION ALL ".join(f"SELECT {cols}, {sign} AS k FROM {table} WHERE unit_id IS NOT NULL"
                               for table, sign in sources)
    match = " AND ".join(f"h.{c} = d.{c}" for c in KEY)
    return (
        f"WITH d AS (SELECT {cols}, SUM(k) AS k FROM ({parts}) x GROUP BY {cols}), "
        f"down AS (UPDATE unit_headcount h SET n = h.n + d.k FROM d WHERE {match} AND d.k < 0) "
        f"INSERT INTO unit_headcount ({cols}, n) SELECT {cols}, k FROM d WHERE k > 0 "
        f"ON CONFLICT ({cols}) DO UPDATE SET n = unit_headcount.n + EXCLUDED.n"
    )


# (trigger, table, event, transition tables, function, body) of each statement trigger.
STATEMENT_TRIGGERS = [
    ("member_feed_insert", "member", "INSERT", "NEW TABLE AS new_rows", "member_feed_insert", MEMBER_FEED),
    ("member_member_seat_insert", "member", "INSERT", "NEW TABLE AS new_rows", "member_seat_of_new_members",
     NEW_MEMBER_SEATS),
    ("placement_feed_insert", "placement", "INSERT", "NEW TABLE AS new_rows", "placement_feed_insert", SEAT_FEED),
    ("placement_member_seat_insert", "placement", "INSERT", "NEW TABLE AS new_rows", "member_seat_of_new_placements",
     NEW_PLACEMENT_SEATS),
    ("member_seat_headcount_insert", "member_seat", "INSERT", "NEW TABLE AS new_rows", "headcount_of_new_seats",
     _headcount_delta([("new_rows", 1)])),
    ("member_seat_headcount_update", "member_seat", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
     "headcount_of_changed_seats", _headcount_delta([("new_rows", 1), ("old_rows", -1)])),
    ("member_seat_headcount_delete", "member_seat", "DELETE", "OLD TABLE AS old_rows", "headcount_of_removed_seats",
     _headcount_delta([("old_rows", -1)])),
]
# Row triggers replaced: (trigger, table, what the remaining row trigger keeps, or None).
REPLACED = [
    ("member_feed_insert", "member", None),
    ("member_member_seat_rows", "member", "AFTER DELETE"),
    ("placement_feed_insert", "placement", None),
    ("placement_member_seat", "placement", "AFTER DELETE OR UPDATE OF member_id, unit_id"),
    ("member_seat_headcount", "member_seat", None),
]
# As 0011 and 0012 created them (for going back).
ROW_TRIGGERS = {
    "member_feed_insert": ("AFTER INSERT", "member_feed_insert"),
    "member_member_seat_rows": ("AFTER INSERT OR DELETE", "member_seat_of_member"),
    "placement_feed_insert": ("AFTER INSERT", "placement_feed_insert"),
    "placement_member_seat": ("AFTER INSERT OR DELETE OR UPDATE OF member_id, unit_id", "member_seat_of_placement"),
    "member_seat_headcount": ("AFTER INSERT OR DELETE OR UPDATE", "headcount_move"),
}
ROW_FUNCTION_BODIES = {
    "member_feed_insert": (
        f"INSERT INTO change_event ({CHANGE_COLUMNS}) "
        f"VALUES ({XID}, NEW.corp_id, NULL, 'MEMBER', NEW.id, 'CREATED', NULL, NULL, {NOW_MS})"
    ),
    "placement_feed_insert": (
        f"INSERT INTO change_event ({CHANGE_COLUMNS}) "
        f"SELECT {XID}, m.corp_id, NULL, 'MEMBER', m.id, 'UPDATED', 'departments', "
        "json_build_object('s', m.status, 'h', m.hidden_from_directory, 'u', "
        "(SELECT string_agg(u.path, ' ') FROM placement p JOIN org_unit u ON u.id = p.unit_id "
        "WHERE p.member_id = NEW.member_id AND p.unit_id <> NEW.unit_id))::text, "
        f"{NOW_MS} FROM member m WHERE m.id = NEW.member_id"
    ),
}


def _function(name: str, body: str, settings: str = "") -> str:
    return (f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql {settings}AS "
            f"$$ BEGIN {body}; RETURN NULL; END $$")


def _forward() -> list[str]:
    out = []
    for trigger, table, kept in REPLACED:
        out.append(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        if kept:
            _, function = ROW_TRIGGERS[trigger]
            out.append(f"CREATE TRIGGER {trigger} {kept} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()")
    for trigger, table, event, transition, function, body in STATEMENT_TRIGGERS:
        out.append(_function(function, body, STATEMENT_SETTINGS))
        out.append(f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {transition} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    return out


def _backward() -> list[str]:
    out = []
    for trigger, table, _event, _transition, function, _body in STATEMENT_TRIGGERS:
        out.append(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        if function not in ROW_FUNCTION_BODIES:
            out.append(f"DROP FUNCTION IF EXISTS {function}()")
    for name, body in ROW_FUNCTION_BODIES.items():
        out.append(_function(name, body))
    for trigger, table, _kept in REPLACED:
        clause, function = ROW_TRIGGERS[trigger]
        out.append(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        out.append(f"CREATE TRIGGER {trigger} {clause} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()")
    return out


async def statement_triggers(apps, schema_editor):
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for sql in _forward():
            await client.execute_script(sql)


async def row_triggers(apps, schema_editor):
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for sql in _backward():
            await client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('models', '0013_contact_member_feed')]

    initial = False

    operations = [
        ops.RunPython(statement_triggers, row_triggers),
    ]
