"""A member token verified once is not verified again on its next use (auth.tokens keeps
its claims), but it still expires on time and dies with the secret it was signed with."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from auth.tokens import InvalidToken, decode, issue_member_token
from models.settings import get_settings


async def test_a_kept_token_reads_the_same_claims():
    token = issue_member_token(7)
    first = await decode(token)
    again = await decode(token)
    assert again == first and again.member_id == 7


async def test_a_kept_token_still_expires():
    token = issue_member_token(7, ttl=1)
    assert (await decode(token)).member_id == 7
    await asyncio.sleep(1.1)
    with pytest.raises(InvalidToken, match="expired"):
        await decode(token)


async def test_a_kept_token_dies_with_the_secret_it_was_signed_with(monkeypatch):
    token = issue_member_token(7)
    assert (await decode(token)).member_id == 7
    monkeypatch.setenv("CHAINGATE_SECRET", secrets.token_urlsafe(48))
    get_settings.cache_clear()
    try:
        with pytest.raises(InvalidToken):
            await decode(token)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert (await decode(token)).member_id == 7
