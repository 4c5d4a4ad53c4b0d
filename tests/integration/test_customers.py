"""Customers over the real database: the card by any number, the book, the migration of old numbers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import select, text

from crm_bridge.book import CustomerBook
from crm_bridge.errors import InvalidPhone, PhoneTaken
from crm_bridge.models import Customer, CustomerPhone
from crm_bridge.schemas import AddressIn, CustomerCreate, CustomerUpdate
from crm_bridge.service import CustomerDirectory
from hotline.db import Database
from hotline.demo import load_demo_data
from hotline.migrate import downgrade, upgrade

NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)


async def test_demo_customers_have_second_numbers_addresses_and_an_agreement(db: Database) -> None:
    await load_demo_data(db)
    directory = CustomerDirectory(db)
    chen = await directory.card_by_phone("0755-8600-1234")  # Chen Gang's office line, not his mobile
    assert chen is not None and chen.name == "Chen Gang"
    assert chen.phone == "+8613700137000" and chen.phones == ["+8613700137000", "+8675586001234", "+8613700137001"]
    assert (chen.agreement, chen.home_office, chen.dedicated_agent) == ("AGR-2024-0042", "SZ-NS", "1001")
    assert chen.tier == "key_account" and chen.company == "Eastern Electronics Ltd."
    for number in ("13800138000", "010 6552 9988"):
        card = await directory.card_by_phone(number)
        assert card is not None and card.name == "Zhang Wei"
    assert await directory.card_by_id(chen.id) == chen
    detail = await CustomerBook(db, lambda: NOW).detail(chen.id)
    assert [a.label for a in detail.addresses] == ["head office", "warehouse"]


async def test_the_phone_look_up_is_one_indexed_statement(db: Database) -> None:
    """The card's statement reads customer_phones through its unique index (no sequential scan), with
    enough rows that the planner would rather scan if it could."""
    await load_demo_data(db)
    async with db.session() as s:
        await s.execute(
            text(
                "INSERT INTO customers (name, phone, tier) SELECT 'c' || g, '+86139' || lpad(g::text, 8, '0'), "
                "'walk_in' FROM generate_series(1, 20000) g"
            )
        )
        await s.execute(
            text(
                "INSERT INTO customer_phones (customer_id, number, is_primary) "
                "SELECT id, phone, true FROM customers WHERE name LIKE 'c%'"
            )
        )
        await s.commit()
        await s.execute(text("ANALYZE customers"))
        await s.execute(text("ANALYZE customer_phones"))
    from crm_bridge.service import card_columns

    stmt = card_columns().join_from(CustomerPhone, Customer, CustomerPhone.customer_id == Customer.id)
    stmt = stmt.where(CustomerPhone.number == "+8613900012345")
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    async with db.session() as s:
        plan = "\n".join((await s.execute(text(f"EXPLAIN {compiled}"))).scalars())
    assert "uq_customer_phones_number" in plan and "Seq Scan" not in plan, plan
    card = await CustomerDirectory(db).card_by_phone("13900012345")
    assert card is not None and card.name == "c12345" and card.phones == ["+8613900012345"]


async def test_create_update_and_conflicting_numbers(db: Database) -> None:
    await load_demo_data(db)
    book = CustomerBook(db, lambda: NOW)
    created = await book.create(
        CustomerCreate(
            name="Sun Li",
            phones=["13500135000", "+86 21 6234 5678"],
            company="Sun Imports",
            addresses=[AddressIn(label="office", text="Pudong Road 1", postal_code="200120", city="Shanghai")],
        ),
        by="demo-supervisor",
    )
    assert created.card.phones == ["+8613500135000", "+862162345678"] and created.card.phone == "+8613500135000"
    assert [(g.new_tier, g.by, g.reason) for g in created.grade_history] == [("walk_in", "demo-supervisor", "created")]
    with pytest.raises(PhoneTaken, match="belongs to customer"):
        await book.create(CustomerCreate(name="X", phones=["13800138000"]), by="x")  # Zhang Wei's
    with pytest.raises(InvalidPhone):
        await book.create(CustomerCreate(name="X", phones=["1001"]), by="x")  # an extension is no customer number
    with pytest.raises(InvalidPhone, match="twice"):
        await book.create(CustomerCreate(name="X", phones=["13500135111", "+8613500135111"]), by="x")

    # the second number becomes primary, a third is added, the first dropped
    updated = await book.update(
        created.card.id, CustomerUpdate(phones=["021 6234 5678", "13500135001"], notes="prefers e-mail")
    )
    assert updated.card.phones == ["+862162345678", "+8613500135001"] and updated.card.phone == "+862162345678"
    assert updated.card.notes == "prefers e-mail" and updated.addresses[0].text == "Pudong Road 1"
    directory = CustomerDirectory(db)
    assert await directory.card_by_phone("13500135000") is None
    assert (await directory.card_by_phone("13500135001")).id == created.card.id  # type: ignore[union-attr]
    with pytest.raises(PhoneTaken):
        await book.update(created.card.id, CustomerUpdate(phones=["13900139000"]))  # Li Na's
    assert (await book.detail(created.card.id)).card.phones == ["+862162345678", "+8613500135001"]  # unchanged


async def test_search_by_name_phone_company_and_tier_with_paging(db: Database) -> None:
    await load_demo_data(db)
    book = CustomerBook(db, lambda: NOW)
    for i in range(30):
        await book.create(CustomerCreate(name=f"Zhou Customer {i:02d}", phones=[f"135001350{i:02d}"]), by="x")
    page = await book.search(q="zhou cust", page=2, per_page=25)
    assert page.total == 30 and [c.name for c in page.items] == [f"Zhou Customer {i:02d}" for i in range(25, 30)]
    assert [c.name for c in (await book.search(q="010-65529988")).items] == ["Zhang Wei"]  # a second number
    assert [c.name for c in (await book.search(q="eastern")).items] == ["Chen Gang"]
    assert [c.name for c in (await book.search(company="huaxin")).items] == ["Zhang Wei"]
    assert [c.name for c in (await book.search(tier="vip")).items] == ["Zhang Wei"]  # type: ignore[arg-type]
    assert (await book.search(q="zhou", tier="vip")).total == 0  # type: ignore[arg-type]
    assert [c.name for c in (await book.search(phone="13900139000")).items] == ["Li Na"]
    assert (await book.search(q="100%_")).total == 0  # LIKE wildcards are literal


async def test_migration_moves_existing_numbers_into_customer_phones(pg_url: str) -> None:
    conn = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
    await conn.execute("TRUNCATE customers CASCADE")
    await asyncio.to_thread(downgrade, pg_url, "0005")
    try:
        await conn.execute(
            "INSERT INTO customers (name, phone, tier, city) VALUES ('a', '+8613800138999', 'vip', 'Wuhan'), "
            "('b', '+862162345678', 'mid', NULL)"
        )
        await asyncio.to_thread(upgrade, pg_url)
        rows = await conn.fetch(
            "SELECT c.name, p.number, p.is_primary, c.credit::text AS credit FROM customers c "
            "JOIN customer_phones p ON p.customer_id = c.id ORDER BY c.name"
        )
        cities = await conn.fetch("SELECT text, city FROM customer_addresses")
        await conn.execute("TRUNCATE customers CASCADE")
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [("a", "+8613800138999", True, "good"), ("b", "+862162345678", True, "good")]
    assert [tuple(r) for r in cities] == [("Wuhan", "Wuhan")]


async def test_one_primary_number_per_customer_is_enforced_by_the_database(db: Database) -> None:
    await load_demo_data(db)
    async with db.session() as s:
        zhang = (await s.execute(select(Customer).where(Customer.name == "Zhang Wei"))).scalar_one()
        s.add(CustomerPhone(customer_id=zhang.id, number="+8613511112222", is_primary=True))
        with pytest.raises(Exception, match="uq_customer_phones_primary"):
            await s.commit()
