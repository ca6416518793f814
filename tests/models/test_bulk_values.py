"""models.bulk.insert_values writes the row the model's constructor and save would write:
the columns given, every other one at its default (auto_now times set, nullable ones NULL),
enums by value; an unknown column is refused before anything is written."""

from __future__ import annotations

from datetime import date

import pytest

from models import Member, Placement
from models.bulk import insert_values
from models.enums import Gender, MemberStatus
from tests import factories as f

SKIP = {"id", "created_at", "updated_at"}


def _columns(member: Member) -> dict[str, object]:
    return {n: getattr(member, n) for n in Member._meta.db_fields if n not in SKIP}


async def test_plain_rows_land_as_saved_models_do(client):
    corp, root = await f.corp("行插入")
    given = {
        "name": "王伟",
        "mobile": "+8613911112222",
        "gender": Gender.FEMALE,
        "birthday": date(1990, 2, 3),
        "birth_month": 2,
        "pinyin_full": "wangwei",
        "pinyin_initials": "ww",
        "surname_initial": "w",
    }
    saved = await Member.create(
        corp_id=corp.id, account="saved", account_key="saved", status=MemberStatus.ACTIVE, **given
    )
    await insert_values(
        Member,
        [
            {
                "corp_id": corp.id,
                "account": "plain",
                "account_key": "plain",
                "status": MemberStatus.ACTIVE,
                **given,
                "mobile": "+8613911113333",
            }
        ],
    )
    plain = await Member.get(corp_id=corp.id, account_key="plain")
    assert _columns(plain) == {
        **_columns(await Member.get(id=saved.id)),
        "account": "plain",
        "account_key": "plain",
        "mobile": "+8613911113333",
    }
    assert plain.created_at is not None and plain.updated_at is not None and plain.hidden_from_directory is False

    await insert_values(Placement, [{"member_id": plain.id, "unit_id": root.id, "is_main": True}])
    seat = await Placement.get(member_id=plain.id)
    assert (seat.unit_id, seat.is_main, seat.is_leader) == (root.id, True, False)


async def test_an_unknown_column_is_refused_before_writing(client):
    corp, _ = await f.corp("行插入二")
    with pytest.raises(KeyError):
        await insert_values(Member, [{"corp_id": corp.id, "account": "x", "account_key": "x", "nickname": "x"}])
    assert not await Member.filter(corp_id=corp.id, account="x").exists()
