from __future__ import annotations

from sqlalchemy import func, select

from acd.models import Agent
from crm_bridge.models import Customer
from crm_bridge.service import CustomerDirectory
from hotline.db import Database
from hotline.demo import load_demo_data


async def test_demo_data_loads_once(db: Database) -> None:
    await load_demo_data(db)
    await load_demo_data(db)
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Agent)) == 10
        assert await s.scalar(select(func.count()).select_from(Customer)) == 4


async def test_card_by_phone_normalises(db: Database) -> None:
    await load_demo_data(db)
    directory = CustomerDirectory(db)
    card = await directory.card_by_phone("+86 138-0013-8000")
    assert card is not None
    for form in ("13800138000", "008613800138000", "8613800138000"):
        assert await directory.card_by_phone(form) == card
    assert card.name == "Zhang Wei" and card.tier == "vip"
    assert await directory.card_by_phone("13311112222") is None
    assert await directory.card_by_phone("") is None
    assert await directory.card_by_phone("anonymous") is None


async def test_a_database_known_to_be_away_fails_the_lookup_at_once(db: Database) -> None:
    """While the health probe says the database is away, a look-up does not queue up behind it: the IVR
    hears "unknown caller" at once instead of after its whole time bound."""
    import pytest

    from hotline.errors import DatabaseUnavailable

    await load_demo_data(db)
    directory = CustomerDirectory(db)
    db.available = False
    with pytest.raises(DatabaseUnavailable):
        await directory.card_by_phone("13800138000")
    db.available = True
    assert await directory.card_by_phone("13800138000") is not None
