"""A batch of new rows as few INSERT statements as the database allows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
    executor = db.executor_class(model=model, db=db)
    names = list(executor.regular_columns)
    fields_map = model._meta.fields_map
    columns = ", ".join(f'"{model._meta.fields_db_projection[n]}"' for n in names)
    per_statement = MAX_PARAMETERS // len(names)
    for start in range(0, len(objects), per_statement):
        chunk = objects[start:start + per_statement]
        values: list[Any] = []
        groups = []
        for obj in chunk:
            base = len(values)
            values += [fields_map[n].to_db_value(getattr(obj, n), obj) for n in names]
            groups.append("(" + ", ".join(f"${base + i + 1}" for i in range(len(names))) + ")")
        await db.execute_query(
            f'INSERT INTO "{model._meta.db_table}" ({columns}) VALUES {", ".join(groups)}', values
        )
