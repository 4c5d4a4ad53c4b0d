"""CSV import of customers: every row is checked first, and either all rows go in, in one transaction,
or none does and the report says which rows were refused and why (line number, reason).

Columns (a header line names them, in any order): ``name`` and ``phone`` (the primary number) are
required; ``phones`` (more numbers, separated by ``;``), ``tier``, ``company``, ``city``, ``language``,
``agreement``, ``home_office``, ``dedicated_agent``, ``credit``, ``notes``, ``address``, ``postal_code``
are optional. A tier given here is the starting grade (grading changes it later), recorded as "imported".
Parsing and checking run in a thread: a large file does not stall the controller's loop.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from crm_bridge.errors import ImportTooLarge
from crm_bridge.models import CreditRating, Customer, CustomerPhone, Tier
from crm_bridge.phones import customer_number
from crm_bridge.schemas import AddressIn, ImportReport, RejectedRow
from hotline.db import Database
from hotline.errors import Conflict

MAX_BYTES = 32 * 1024 * 1024
MAX_REPORTED = 1000  # rejected rows listed in a report (the count is always exact)
COLUMNS = {
    "name", "phone", "phones", "tier", "company", "city", "language", "agreement", "home_office",
    "dedicated_agent", "credit", "notes", "address", "postal_code",
}  # fmt: skip
LIMITS = {"name": 120, "company": 200, "city": 80, "language": 16, "agreement": 40, "home_office": 16,
          "dedicated_agent": 64, "notes": 4000}  # fmt: skip
BATCH = 5000


@dataclass
class Row:
    line: int
    customer: dict[str, Any]
    phones: list[str]
    address: dict[str, Any] | None


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    total: int = 0


def _reject(parsed: Parsed, line: int, reason: str) -> None:
    parsed.rejected.append(RejectedRow(line=line, reason=reason))


def _row(values: dict[str, str], line: int, parsed: Parsed, seen: dict[str, int], agreements: dict[str, int]) -> None:
    get = {k: (v or "").strip() for k, v in values.items() if k in COLUMNS}
    if not get.get("name"):
        return _reject(parsed, line, "missing name")
    too_long = [k for k, n in LIMITS.items() if len(get.get(k, "")) > n]
    if too_long:
        return _reject(parsed, line, f"too long: {', '.join(too_long)}")
    raw_phones = [get.get("phone", "")] + [p for p in get.get("phones", "").split(";") if p.strip()]
    if not raw_phones[0]:
        return _reject(parsed, line, "missing phone")
    phones: list[str] = []
    for raw in raw_phones:
        phone = customer_number(raw)
        if phone is None:
            return _reject(parsed, line, f"bad phone {raw.strip()!r}")
        if phone in phones or phone in seen:
            where = "in this row" if phone in phones else f"on line {seen[phone]}"
            return _reject(parsed, line, f"duplicate phone {phone} (also {where})")
        phones.append(phone)
    try:
        tier = Tier(get["tier"].lower().replace("-", "_").replace(" ", "_")) if get.get("tier") else Tier.walk_in
    except ValueError:
        return _reject(parsed, line, f"bad tier {get['tier']!r} (one of {', '.join(Tier)})")
    try:
        credit = CreditRating(get["credit"].lower()) if get.get("credit") else CreditRating.good
    except ValueError:
        return _reject(parsed, line, f"bad credit {get['credit']!r} (one of {', '.join(CreditRating)})")
    agreement = get.get("agreement") or None
    if agreement is not None:
        if agreement in agreements:
            return _reject(parsed, line, f"duplicate agreement {agreement} (also on line {agreements[agreement]})")
        agreements[agreement] = line
    address = None
    if get.get("address"):
        try:
            a = AddressIn(label="main", text=get["address"], postal_code=get.get("postal_code") or None,
                          city=get.get("city") or None)  # fmt: skip
        except ValidationError as e:
            return _reject(parsed, line, f"bad address: {e.errors()[0]['msg']}")
        address = a.model_dump()
    for phone in phones:
        seen[phone] = line
    customer = {
        k: get.get(k) or None for k in ("company", "city", "language", "home_office", "dedicated_agent", "notes")
    }
    customer |= {"name": get["name"], "phone": phones[0], "tier": tier, "credit": credit, "agreement": agreement}
    parsed.rows.append(Row(line, customer, phones, address))
    return None


def parse(data: bytes) -> Parsed:
    """Checks every row on its own and against the rows before it (blocking: run it in a thread)."""
    parsed = Parsed()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        _reject(parsed, 1, f"not UTF-8 text: {e.reason} at byte {e.start}")
        return parsed
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = {"name", "phone"} - set(header)
    if missing:
        _reject(parsed, 1, f"the header lacks {', '.join(sorted(missing))} (columns: {', '.join(sorted(COLUMNS))})")
        return parsed
    reader.fieldnames = header
    seen: dict[str, int] = {}
    agreements: dict[str, int] = {}
    try:
        for values in reader:
            parsed.total += 1
            _row(values, reader.line_num, parsed, seen, agreements)
    except csv.Error as e:
        _reject(parsed, reader.line_num, f"unreadable CSV: {e}")
    return parsed


class CustomerImporter:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def run(self, data: bytes, by: str, dry_run: bool = False) -> ImportReport:
        if len(data) > MAX_BYTES:
            raise ImportTooLarge(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB: split it")
        parsed = await asyncio.to_thread(parse, data)
        async with self.db.session() as s:
            await self._against_database(s, parsed)
            if parsed.rejected or dry_run:
                return self._report(parsed, imported=0, dry_run=dry_run)
            try:
                await self._insert(s, parsed.rows, by)
                await s.commit()
            except IntegrityError:
                await s.rollback()
                raise Conflict("a number or agreement of this file was taken meanwhile: nothing imported") from None
        return self._report(parsed, imported=len(parsed.rows), dry_run=False)

    @staticmethod
    def _report(parsed: Parsed, imported: int, dry_run: bool) -> ImportReport:
        rejected = sorted(parsed.rejected, key=lambda r: r.line)
        return ImportReport(imported=imported, rejected=rejected[:MAX_REPORTED], rows=parsed.total, dry_run=dry_run)

    @staticmethod
    async def _against_database(s: Any, parsed: Parsed) -> None:
        """Rows whose numbers or agreement already belong to a customer are refused too."""
        by_phone = {p: r for r in parsed.rows for p in r.phones}
        by_agreement = {r.customer["agreement"]: r for r in parsed.rows if r.customer["agreement"]}
        bad: dict[int, str] = {}
        numbers = list(by_phone)
        for i in range(0, len(numbers), 10_000):
            stmt = select(CustomerPhone.number, CustomerPhone.customer_id).where(
                CustomerPhone.number.in_(numbers[i : i + 10_000])
            )
            for number, owner in (await s.execute(stmt)).all():
                bad.setdefault(by_phone[number].line, f"duplicate phone {number} (customer {owner} has it)")
        if by_agreement:
            taken = select(Customer.agreement, Customer.id).where(Customer.agreement.in_(list(by_agreement)))
            for agreement, owner in (await s.execute(taken)).all():
                bad.setdefault(by_agreement[agreement].line, f"duplicate agreement {agreement} (customer {owner})")
        parsed.rejected.extend(RejectedRow(line=line, reason=reason) for line, reason in bad.items())

    async def _insert(self, s: Any, rows: Sequence[Row], by: str) -> None:
        """A batch is one statement per table, its columns passed as arrays (``unnest``): no per-row
        parameter handling in Python. The new ids come back by primary number, which is unique."""
        now = self.clock()
        for i in range(0, len(rows), BATCH):
            batch = rows[i : i + BATCH]
            columns = {c: [r.customer[c] for r in batch] for c in _CUSTOMER_COLUMNS}
            columns["tier"] = [t.value for t in columns["tier"]]
            columns["credit"] = [c.value for c in columns["credit"]]
            returned = await s.execute(_INSERT_CUSTOMERS, columns | {"now": now})
            ids: dict[str, int] = {phone: cid for phone, cid in returned.all()}
            owners = [(ids[r.phones[0]], p, n == 0) for r in batch for n, p in enumerate(r.phones)]
            await s.execute(
                _INSERT_PHONES,
                {
                    "ids": [o[0] for o in owners],
                    "numbers": [o[1] for o in owners],
                    "primaries": [o[2] for o in owners],
                },
            )
            addresses = [(ids[r.phones[0]], r.address) for r in batch if r.address]
            if addresses:
                await s.execute(
                    _INSERT_ADDRESSES,
                    {
                        "ids": [cid for cid, _ in addresses],
                        "labels": [a["label"] for _, a in addresses],
                        "texts": [a["text"] for _, a in addresses],
                        "codes": [a["postal_code"] for _, a in addresses],
                        "cities": [a["city"] for _, a in addresses],
                    },
                )
            await s.execute(
                _INSERT_HISTORY,
                {"ids": [ids[r.phones[0]] for r in batch], "tiers": columns["tier"], "by": by, "now": now},
            )


_CUSTOMER_COLUMNS = ("name", "phone", "tier", "credit", "company", "city", "language", "agreement", "home_office",
                     "dedicated_agent", "notes")  # fmt: skip
_INSERT_CUSTOMERS = text(
    "INSERT INTO customers (name, phone, tier, credit, company, city, language, agreement, home_office, "
    "dedicated_agent, notes, tier_manual, created_at, updated_at) "
    "SELECT u.name, u.phone, u.tier::customer_tier, u.credit::credit_rating, u.company, u.city, u.language, "
    "u.agreement, u.home_office, u.dedicated_agent, u.notes, false, :now, :now "
    "FROM unnest(CAST(:name AS text[]), CAST(:phone AS text[]), CAST(:tier AS text[]), CAST(:credit AS text[]), "
    "CAST(:company AS text[]), CAST(:city AS text[]), CAST(:language AS text[]), CAST(:agreement AS text[]), "
    "CAST(:home_office AS text[]), CAST(:dedicated_agent AS text[]), CAST(:notes AS text[])) "
    "AS u(name, phone, tier, credit, company, city, language, agreement, home_office, dedicated_agent, notes) "
    "RETURNING phone, id"
)
_INSERT_PHONES = text(
    "INSERT INTO customer_phones (customer_id, number, is_primary) "
    "SELECT * FROM unnest(CAST(:ids AS integer[]), CAST(:numbers AS text[]), CAST(:primaries AS boolean[]))"
)
_INSERT_ADDRESSES = text(
    "INSERT INTO customer_addresses (customer_id, label, text, postal_code, city) "
    "SELECT * FROM unnest(CAST(:ids AS integer[]), CAST(:labels AS text[]), CAST(:texts AS text[]), "
    "CAST(:codes AS text[]), CAST(:cities AS text[]))"
)
_INSERT_HISTORY = text(
    "INSERT INTO customer_grade_history (customer_id, new_tier, reason, by, manual, at) "
    "SELECT u.id, u.tier::customer_tier, 'imported', :by, false, :now "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:tiers AS text[])) AS u(id, tier)"
)
