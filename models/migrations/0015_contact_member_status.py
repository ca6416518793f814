import importlib

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# A contact linked to a resigned or disabled member is gone from every non-admin chain view
# (SPEC §3.5, permissions.chain.contact_listed), so whether a viewer could see a contact at a
# feed position depends on its member's status then. Every trigger that logs a CONTACT change
# row (0011: the contact's own writes and its corp's moves; 0013: its member's status, hiding,
# corp and seats) now adds that status to the row's `before` facts as "ms" (null: no member):
# the member's status before the write for a write to the member, its current one otherwise.
# The index on member.status finds the members that left (resigned, disabled: a few among
# many) for the non-admin contact filter (permissions.chain.contact_listed_q).

feed = importlib.import_module("models.migrations.0011_change_feed")
member_feed = importlib.import_module("models.migrations.0013_contact_member_feed")

CURRENT_STATUS = "(SELECT status FROM member WHERE id = {row}.member_id)"


def _before(d, c: str, corp_status: str, group: str, member_status: str) -> str:
    return d.json({"s": f"{c}.status", "m": f"{c}.member_id", "c": f"{c}.chain_corp_id", "cs": corp_status,
                   "g": group, "ms": member_status})


def _contacts_where(d, kind: str, changed: str, corp: str, where: str, member_status: str) -> str:
    """One change row per contact `c` (joined to its corp `k`) matching `where`."""
    before = _before(d, "c", f"{corp}.status", f"{corp}.group_id", member_status)
    join = "" if corp != "k" else " JOIN chain_corp k ON k.id = c.chain_corp_id"
    return feed._insert_select(d, f"SELECT {d.xid()}, NULL, c.chain_id, 'CONTACT', c.id, '{kind}', {changed}, "
                                  f"{before}, {d.now_ms()} FROM chain_contact c{join} WHERE {where}")


def _triggers(d) -> list[tuple[str, str, str, str, list[str]]]:
    """(name, table, timing+event clause, WHEN condition or '', statements), as 0011 and 0013
    wrote them but for the "ms" fact."""
    current = CURRENT_STATUS.format(row="c")

    def own_before(row: str) -> str:
        corp = f"(SELECT {{}} FROM chain_corp WHERE id = {row}.chain_corp_id)"
        return _before(d, row, corp.format("status"), corp.format("group_id"), CURRENT_STATUS.format(row=row))

    moved, _ = feed._changed(d, {"status": "", "group_id": ""})
    cond, changed = feed._changed(d, feed.CONTACT_FIELDS)
    reach = " OR ".join(d.distinct(f"OLD.{c}", f"NEW.{c}") for c in member_feed.MEMBER_REACH)
    seat = f"{d.distinct('OLD.unit_id', 'NEW.unit_id')} OR {d.distinct('OLD.member_id', 'NEW.member_id')}"

    def of_members(members: str, status: str) -> list[str]:
        return [_contacts_where(d, "UPDATED", "'member'", "k", f"c.member_id IN ({members})", status)]

    return [
        ("chain_corp_feed_contacts", "chain_corp", "AFTER UPDATE OF status, group_id", moved, [
            _contacts_where(d, "UPDATED", "'chainCorp'", "OLD", "c.chain_corp_id = OLD.id", current)]),
        ("chain_corp_feed_delete", "chain_corp", "BEFORE DELETE", "", [
            _contacts_where(d, "REMOVED", "NULL", "OLD", "c.chain_corp_id = OLD.id", current),
            feed._insert(d, "NULL", "OLD.chain_id", "CHAIN_CORP", "OLD.id", "REMOVED", "NULL",
                         d.json({"s": "OLD.status", "g": "OLD.group_id"}))]),
        ("chain_contact_feed_update", "chain_contact", f"AFTER UPDATE OF {', '.join(feed.CONTACT_FIELDS)}", cond, [
            feed._insert(d, "NULL", "NEW.chain_id", "CONTACT", "NEW.id", "UPDATED", changed, own_before("OLD"))]),
        ("chain_contact_feed_delete", "chain_contact", "BEFORE DELETE", "", [
            feed._insert(d, "NULL", "OLD.chain_id", "CONTACT", "OLD.id", "REMOVED", "NULL", own_before("OLD"))]),
        ("member_feed_contacts", "member", f"AFTER UPDATE OF {', '.join(member_feed.MEMBER_REACH)}", reach,
         of_members("NEW.id", "OLD.status")),
        ("placement_feed_contacts_insert", "placement", "AFTER INSERT", "", of_members("NEW.member_id", current)),
        ("placement_feed_contacts_update", "placement", "AFTER UPDATE OF unit_id, member_id", seat,
         of_members("OLD.member_id, NEW.member_id", current)),
        ("placement_feed_contacts_delete", "placement", "AFTER DELETE", "", of_members("OLD.member_id", current)),
    ]


def _sql(d, triggers) -> list[str]:
    out = []
    for name, table, clause, cond, statements in triggers:
        body = "; ".join(statements)
        if d.pg:
            ret = "OLD" if clause.startswith("BEFORE") else "NULL"
            when = f" WHEN ({cond})" if cond else ""
            out += [f"DROP TRIGGER IF EXISTS {name} ON {table}",
                    f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                    f"$$ BEGIN {body}; RETURN {ret}; END $$",
                    f"CREATE TRIGGER {name} {clause} ON {table} FOR EACH ROW{when} EXECUTE FUNCTION {name}()"]
        else:
            when = f" WHEN {cond}" if cond else ""
            out += [f"DROP TRIGGER IF EXISTS {name}",
                    f"CREATE TRIGGER {name} {clause} ON {table}{when} BEGIN {body}; END"]
    return out


async def with_member_status(apps, schema_editor):
    client = schema_editor.client
    for sql in _sql(feed._Dialect(client.capabilities.dialect), _triggers(feed._Dialect(client.capabilities.dialect))):
        await client.execute_script(sql)


async def without_member_status(apps, schema_editor):
    """Back to the triggers as 0011 and 0013 wrote them."""
    client = schema_editor.client
    d = feed._Dialect(client.capabilities.dialect)
    names = {t[0] for t in _triggers(d)}
    old = [t for t in feed._feed_triggers(d) if t[0] in names]
    old += [(n, t, c, w, [s]) for n, t, c, w, s in member_feed._triggers(d.pg) if n in names]
    for sql in _sql(d, old):
        await client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('models', '0014_statement_triggers')]

    initial = False

    operations = [
        ops.AddIndex(model_name='Member', index=Index(fields=['status'])),
        ops.RunPython(with_member_status, without_member_status),
    ]
