"""A batch of new rows as few INSERT statements as the database allows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise import timezone
from tortoise.fields import DatetimeField
from tortoise.models import Model

# PostgreSQL's limit on bind parameters in one statement.
MAX_PARAMETERS = 32767


async def insert_rows(model: type[Model], objects: Sequence[Model]) -> None:
    """Insert `objects` (new, unsaved instances of `model`; ids are not read back).

    PostgreSQL: one multi-row `INSERT ... VALUES` per 32,767 bind parameters, so that a
    batch is one statement: statement-level triggers (change feed, head-counts, policy
    version; migration 0013) run once per batch over its transition table instead of once
    per row. (Tortoise's bulk_create sends the rows through asyncpg's executemany: one
    statement per row.) SQLite, and models with database-side defaults: bulk_create.
    Values go through each field's `to_db_value`, as in bulk_create."""
    if not objects:
        return
    db = model._choose_db(for_write=True)
    if db.capabilities.dialect != "postgres" or model._meta.db_default_db_columns:
        await model.bulk_create(objects)
        return
    names = _columns(model)
    fields_map = model._meta.fields_map
    await _insert_postgres(model, names, [[fields_map[n].to_db_value(getattr(o, n), o) for n in names] for o in objects])


async def insert_values(model: type[Model], rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` of `model` — each field name -> value, as the model's constructor takes
    them (a foreign key by its `_id`) — without building model instances (ids are not read
    back). A field a row leaves out takes what the constructor would give it: its default
    (called when callable), the statement's time for auto_now / auto_now_add, else NULL. Values
    go through each field's `to_db_value`. PostgreSQL: as insert_rows, one multi-row INSERT per
    32,767 bind parameters; SQLite: one prepared INSERT run for every row. Raises KeyError for a
    name that is no column of `model`; models with database-side defaults are not supported
    (ValueError). For the batches of an import (flows/directory_import.py)."""
    if not rows:
        return
    if model._meta.db_default_db_columns:
        raise ValueError(f"{model.__name__} has database-side defaults: use insert_rows")
    names = _columns(model)
    known = set(names)
    for row in rows:
        unknown = row.keys() - known
        if unknown:
            raise KeyError(f"{model.__name__} has no column {sorted(unknown)[0]}")
    fields_map = model._meta.fields_map
    now = timezone.localtime()
    defaults: dict[str, Any] = {}
    for n in names:
        field = fields_map[n]
        if isinstance(field, DatetimeField) and (field.auto_now or field.auto_now_add):
            defaults[n] = lambda: now
        elif callable(field.default):
            defaults[n] = field.default
        else:
            defaults[n] = lambda value=field.default: value
    values = [
        [fields_map[n].to_db_value(row[n] if n in row else defaults[n](), None) for n in names] for row in rows
    ]
    db = model._choose_db(for_write=True)
    if db.capabilities.dialect == "postgres":
        await _insert_postgres(model, names, values)
        return
    columns = ", ".join(f'"{model._meta.fields_db_projection[n]}"' for n in names)
    marks = ", ".join("?" for _ in names)
    await db.execute_many(f'INSERT INTO "{model._meta.db_table}" ({columns}) VALUES ({marks})', values)


def _columns(model: type[Model]) -> list[str]:
    """The field names an INSERT of `model` writes (the generated primary key left out)."""
    db = model._choose_db(for_write=True)
    return list(db.executor_class(model=model, db=db).regular_columns)


async def _insert_postgres(model: type[Model], names: list[str], rows: list[list[Any]]) -> None:
    db = model._choose_db(for_write=True)
    columns = ", ".join(f'"{model._meta.fields_db_projection[n]}"' for n in names)
    per_statement = MAX_PARAMETERS // len(names)
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        values: list[Any] = []
        groups = []
        for row in chunk:
            base = len(values)
            values += row
            groups.append("(" + ", ".join(f"${base + i + 1}" for i in range(len(names))) + ")")
        await db.execute_query(
            f'INSERT INTO "{model._meta.db_table}" ({columns}) VALUES {", ".join(groups)}', values
        )
