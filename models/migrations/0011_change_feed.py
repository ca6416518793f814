from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# The change log is written by triggers, not by the flows: a trigger cannot miss a write path
# (API mutations, imports, joins, resigns, deletes, cascades, a script). Each trigger appends
# one change_event row in the writing transaction. `before` carries the object's
# visibility facts just before the write (see models.feed.ChangeEvent).
# Feed epoch: writes that change what a viewer may see without changing a feed object.
EPOCH_ON_ANY_ROW = {
    "field_setting": ("corp_id", "field", "visible_to_members", "self_editable"),
    "admin_grant": ("corp_id", "member_id", "kind", "unit_ids", "rights", "chain_id", "group_ids"),
    "chain_rule": ("chain_id", "subject_unit_id", "subject_member_id", "object_group_id", "object_chain_corp_id"),
}
EPOCH_ON_UPDATE_ONLY = {
    "org_unit": ("parent_id", "path", "scope", "scope_whitelist", "scope_exclude"),
    "chain_space": ("owner_corp_id", "corps_see_each_other"),
    "chain_group": ("parent_id", "path", "peers_visible"),
    "app_token": ("corp_id", "scopes", "chain_id"),
}
EPOCH_BUMP = "UPDATE feed_state SET epoch = epoch + 1 WHERE id = 1"

# Watched columns by table: column -> API field name reported in changedFields.
MEMBER_FIELDS = {
    "name": "name", "alias": "alias", "mobile": "mobile", "email": "email", "wechat_id": "wechatId",
    "telephone": "telephone", "gender": "gender", "position": "position", "address": "address",
    "birthday": "birthday", "hire_date": "hireDate", "status": "status", "hidden_from_directory": "hidden",
    "corp_id": "corp",
}
UNIT_FIELDS = {"name": "name", "order": "order", "parent_id": "parent", "path": "path", "scope": "scope", "depth": "depth"}
CHAIN_CORP_FIELDS = {
    "status": "status", "group_id": "group", "corp_id": "corp", "custom_corp_id": "customCorpId",
    "imported_name": "importedName",
}
CONTACT_FIELDS = {
    "name": "name", "mobile": "mobile", "role": "role", "status": "status", "member_id": "member",
    "chain_corp_id": "chainCorp",
}


class _Dialect:
    def __init__(self, name: str) -> None:
        self.pg = name == "postgres"

    def xid(self) -> str:
        return "pg_current_xact_id()::text::bigint" if self.pg else "NULL"

    def now_ms(self) -> str:
        if self.pg:
            return "(extract(epoch from clock_timestamp()) * 1000)::bigint"
        return "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"

    def json(self, pairs: dict[str, str]) -> str:
        args = ", ".join(f"'{k}', {v}" for k, v in pairs.items())
        return f"json_build_object({args})::text" if self.pg else f"json_object({args})"

    def agg(self, expr: str) -> str:
        return f"string_agg({expr}, ' ')" if self.pg else f"group_concat({expr}, ' ')"

    def distinct(self, a: str, b: str) -> str:
        return f"{a} IS DISTINCT FROM {b}" if self.pg else f"{a} IS NOT {b}"

    def q(self, column: str) -> str:
        return f'"{column}"' if column == "order" else column


def _changed(d: _Dialect, columns: dict[str, str]) -> tuple[str, str]:
    """(WHEN condition, changed-field list expression) for an UPDATE trigger."""
    cond = " OR ".join(d.distinct(f"OLD.{d.q(c)}", f"NEW.{d.q(c)}") for c in columns)
    parts = " || ".join(
        f"(CASE WHEN {d.distinct(f'OLD.{d.q(c)}', f'NEW.{d.q(c)}')} THEN '{api},' ELSE '' END)"
        for c, api in columns.items()
    )
    return cond, f"rtrim({parts}, ',')"


def _unit_paths(d: _Dialect, member: str, without_unit: str | None = None) -> str:
    extra = f" AND p.unit_id <> {without_unit}" if without_unit else ""
    return (f"(SELECT {d.agg('u.path')} FROM placement p JOIN org_unit u ON u.id = p.unit_id "
            f"WHERE p.member_id = {member}{extra})")


def _insert(d: _Dialect, corp: str, chain: str, otype: str, oid: str, kind: str, changed: str, before: str) -> str:
    return ("INSERT INTO change_event (xid, corp_id, chain_id, object_type, object_id, kind, changed, before, at_ms) "
            f"VALUES ({d.xid()}, {corp}, {chain}, '{otype}', {oid}, '{kind}', {changed}, {before}, {d.now_ms()})")


def _insert_select(d: _Dialect, select: str) -> str:
    return ("INSERT INTO change_event (xid, corp_id, chain_id, object_type, object_id, kind, changed, before, at_ms) "
            + select)


def _contact_before(d: _Dialect, c: str, corp_status: str, group: str) -> str:
    return d.json({"s": f"{c}.status", "m": f"{c}.member_id", "c": f"{c}.chain_corp_id", "cs": corp_status, "g": group})


def _feed_triggers(d: _Dialect) -> list[tuple[str, str, str, str, list[str]]]:
    """(name, table, timing+event clause, WHEN condition or '', statements) for each trigger."""
    out = []
    # --- members ---------------------------------------------------------------------
    def member_before(row: str) -> str:
        return d.json({"s": f"{row}.status", "h": f"{row}.hidden_from_directory", "u": _unit_paths(d, f"{row}.id")})
    out.append(("member_feed_insert", "member", "AFTER INSERT", "", [
        _insert(d, "NEW.corp_id", "NULL", "MEMBER", "NEW.id", "CREATED", "NULL", "NULL")]))
    cond, changed = _changed(d, MEMBER_FIELDS)
    cols = ", ".join(d.q(c) for c in MEMBER_FIELDS)
    out.append(("member_feed_update", "member", f"AFTER UPDATE OF {cols}", cond, [
        _insert(d, "NEW.corp_id", "NULL", "MEMBER", "NEW.id", "UPDATED", changed, member_before("OLD"))]))
    # BEFORE: the member's seats still exist (they go by cascade).
    out.append(("member_feed_delete", "member", "BEFORE DELETE", "", [
        _insert(d, "OLD.corp_id", "NULL", "MEMBER", "OLD.id", "REMOVED", "NULL", member_before("OLD"))]))

    # --- seats: a member's departments ------------------------------------------------
    def seat_change(row: str, before_units: str) -> str:
        before = d.json({"s": "m.status", "h": "m.hidden_from_directory", "u": before_units})
        return _insert_select(d, f"SELECT {d.xid()}, m.corp_id, NULL, 'MEMBER', m.id, 'UPDATED', 'departments', "
                                 f"{before}, {d.now_ms()} FROM member m WHERE m.id = {row}.member_id")
    old_unit = "(SELECT path FROM org_unit WHERE id = OLD.unit_id)"
    out.append(("placement_feed_insert", "placement", "AFTER INSERT", "", [
        seat_change("NEW", _unit_paths(d, "NEW.member_id", "NEW.unit_id"))]))
    with_old = (f"trim(coalesce({_unit_paths(d, 'NEW.member_id', 'NEW.unit_id')}, '') || ' ' || "
                f"coalesce({old_unit}, ''))")
    cond, _ = _changed(d, {"unit_id": "", "member_id": "", "is_main": "", "is_leader": ""})
    out.append(("placement_feed_update", "placement", "AFTER UPDATE OF unit_id, member_id, is_main, is_leader", cond,
                [seat_change("NEW", with_old)]))
    deleted = f"trim(coalesce({_unit_paths(d, 'OLD.member_id')}, '') || ' ' || coalesce({old_unit}, ''))"
    out.append(("placement_feed_delete", "placement", "AFTER DELETE", "", [seat_change("OLD", deleted)]))

    # --- units -------------------------------------------------------------------------
    out.append(("org_unit_feed_insert", "org_unit", "AFTER INSERT", "", [
        _insert(d, "NEW.corp_id", "NULL", "UNIT", "NEW.id", "CREATED", "NULL", "NULL")]))
    cond, changed = _changed(d, UNIT_FIELDS)
    cols = ", ".join(d.q(c) for c in UNIT_FIELDS)
    out.append(("org_unit_feed_update", "org_unit", f"AFTER UPDATE OF {cols}", cond, [
        _insert(d, "NEW.corp_id", "NULL", "UNIT", "NEW.id", "UPDATED", changed, d.json({"p": "OLD.path"}))]))
    out.append(("org_unit_feed_delete", "org_unit", "BEFORE DELETE", "", [
        _insert(d, "OLD.corp_id", "NULL", "UNIT", "OLD.id", "REMOVED", "NULL", d.json({"p": "OLD.path"}))]))

    # --- chain corps (and, when their visibility moves, their contacts) ---------------------
    def corp_before(row: str) -> str:
        return d.json({"s": f"{row}.status", "g": f"{row}.group_id"})

    def contacts_of(row: str, kind: str, changed: str) -> str:
        before = _contact_before(d, "c", f"{row}.status", f"{row}.group_id")
        return _insert_select(d, f"SELECT {d.xid()}, NULL, c.chain_id, 'CONTACT', c.id, '{kind}', {changed}, "
                                 f"{before}, {d.now_ms()} FROM chain_contact c WHERE c.chain_corp_id = {row}.id")
    out.append(("chain_corp_feed_insert", "chain_corp", "AFTER INSERT", "", [
        _insert(d, "NULL", "NEW.chain_id", "CHAIN_CORP", "NEW.id", "CREATED", "NULL", "NULL")]))
    cond, changed = _changed(d, CHAIN_CORP_FIELDS)
    cols = ", ".join(CHAIN_CORP_FIELDS)
    out.append(("chain_corp_feed_update", "chain_corp", f"AFTER UPDATE OF {cols}", cond, [
        _insert(d, "NULL", "NEW.chain_id", "CHAIN_CORP", "NEW.id", "UPDATED", changed, corp_before("OLD"))]))
    moved, _ = _changed(d, {"status": "", "group_id": ""})
    out.append(("chain_corp_feed_contacts", "chain_corp", "AFTER UPDATE OF status, group_id", moved, [
        contacts_of("OLD", "UPDATED", "'chainCorp'")]))
    # BEFORE: the contacts still exist (they go by cascade) and are logged with the corp's facts.
    out.append(("chain_corp_feed_delete", "chain_corp", "BEFORE DELETE", "", [
        contacts_of("OLD", "REMOVED", "NULL"),
        _insert(d, "NULL", "OLD.chain_id", "CHAIN_CORP", "OLD.id", "REMOVED", "NULL", corp_before("OLD"))]))

    # --- chain contacts -------------------------------------------------------------------
    def contact_before(row: str) -> str:
        return _contact_before(d, row, f"(SELECT status FROM chain_corp WHERE id = {row}.chain_corp_id)",
                               f"(SELECT group_id FROM chain_corp WHERE id = {row}.chain_corp_id)")
    out.append(("chain_contact_feed_insert", "chain_contact", "AFTER INSERT", "", [
        _insert(d, "NULL", "NEW.chain_id", "CONTACT", "NEW.id", "CREATED", "NULL", "NULL")]))
    cond, changed = _changed(d, CONTACT_FIELDS)
    cols = ", ".join(CONTACT_FIELDS)
    out.append(("chain_contact_feed_update", "chain_contact", f"AFTER UPDATE OF {cols}", cond, [
        _insert(d, "NULL", "NEW.chain_id", "CONTACT", "NEW.id", "UPDATED", changed, contact_before("OLD"))]))
    out.append(("chain_contact_feed_delete", "chain_contact", "BEFORE DELETE", "", [
        _insert(d, "NULL", "OLD.chain_id", "CONTACT", "OLD.id", "REMOVED", "NULL", contact_before("OLD"))]))

    # --- the feed epoch --------------------------------------------------------------------
    for table, columns in {**EPOCH_ON_ANY_ROW, **EPOCH_ON_UPDATE_ONLY}.items():
        cond, _ = _changed(d, dict.fromkeys(columns, ""))
        out.append((f"{table}_epoch_update", table, f"AFTER UPDATE OF {', '.join(columns)}", cond, [EPOCH_BUMP]))
        if table in EPOCH_ON_ANY_ROW:
            out.append((f"{table}_epoch_insert", table, "AFTER INSERT", "", [EPOCH_BUMP]))
            out.append((f"{table}_epoch_delete", table, "AFTER DELETE", "", [EPOCH_BUMP]))
    return out


def _trigger_sql(dialect: str) -> list[str]:
    d = _Dialect(dialect)
    out = []
    for name, table, clause, cond, statements in _feed_triggers(d):
        body = "; ".join(statements)
        if d.pg:
            ret = "OLD" if clause.startswith("BEFORE") else "NULL"
            out.append(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                       f"$$ BEGIN {body}; RETURN {ret}; END $$")
            when = f" WHEN ({cond})" if cond else ""
            out.append(f"CREATE TRIGGER {name} {clause} ON {table} FOR EACH ROW{when} EXECUTE FUNCTION {name}()")
        else:
            when = f" WHEN {cond}" if cond else ""
            out.append(f"CREATE TRIGGER {name} {clause} ON {table}{when} BEGIN {body}; END")
    return out


def _drop_sql(dialect: str) -> list[str]:
    d = _Dialect(dialect)
    out = []
    for name, table, _clause, _cond, _statements in _feed_triggers(d):
        if d.pg:
            out += [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"]
        else:
            out.append(f"DROP TRIGGER IF EXISTS {name}")
    return out


async def create_triggers(apps, schema_editor):
    client = schema_editor.client
    await client.execute_query("INSERT INTO feed_state (id, epoch, pruned_before_ms) VALUES (1, 1, 0)")
    for sql in _trigger_sql(client.capabilities.dialect):
        await client.execute_script(sql)


async def drop_triggers(apps, schema_editor):
    client = schema_editor.client
    for sql in _drop_sql(client.capabilities.dialect):
        await client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('models', '0010_import_notices')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChangeEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('xid', fields.BigIntField(null=True)),
                ('corp_id', fields.IntField(null=True)),
                ('chain_id', fields.IntField(null=True)),
                ('object_type', fields.CharField(max_length=16)),
                ('object_id', fields.IntField()),
                ('kind', fields.CharField(max_length=8)),
                ('changed', fields.TextField(null=True, unique=False)),
                ('before', fields.TextField(null=True, unique=False)),
                ('at_ms', fields.BigIntField()),
            ],
            options={'table': 'change_event', 'app': 'models', 'indexes': [Index(fields=['corp_id', 'id']), Index(fields=['chain_id', 'id']), Index(fields=['xid']), Index(fields=['at_ms'])], 'pk_attr': 'id', 'table_description': 'One write to a member, unit, chain corp or chain contact, appended by a trigger in the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FeedState',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('epoch', fields.BigIntField(default=0)),
                ('pruned_before_ms', fields.BigIntField(default=0)),
            ],
            options={'table': 'feed_state', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One row (id 1). `epoch`: bumped by triggers on every write that can change what some'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookSubscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('corp', fields.ForeignKeyField('models.Corp', source_field='corp_id', db_constraint=True, to_field='id', related_name='webhook_subscriptions', on_delete=OnDelete.CASCADE)),
                ('app_token', fields.ForeignKeyField('models.AppToken', source_field='app_token_id', db_constraint=True, to_field='id', related_name='webhook_subscriptions', on_delete=OnDelete.CASCADE)),
                ('url', fields.CharField(max_length=2048)),
                ('events', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('secret', fields.CharField(max_length=128)),
                ('position', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'webhook_subscription', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An endpoint of an app token (SPEC §3.9): the worker posts each change the token may see.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subscription', fields.ForeignKeyField('models.WebhookSubscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('message_id', fields.CharField(max_length=64)),
                ('event_type', fields.CharField(max_length=40)),
                ('body', fields.TextField(unique=False)),
                ('status', fields.CharField(default='PENDING', max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_status_code', fields.IntField(null=True)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['subscription_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One message to one endpoint and its attempts: the delivery log a super admin reads.'},
            bases=['Model'],
        ),
        ops.RunPython(create_triggers, drop_triggers),
    ]
