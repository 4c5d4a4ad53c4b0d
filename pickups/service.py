"""Booking pickups and moving them through their states, each change kept in the history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from crm_bridge.interface import CustomerLookup
from crm_bridge.phones import normalise
from hotline.bounded import bounded
from hotline.bus import EventBus
from hotline.db import Database
from hotline.logs import get_logger
from pickups.config import PickupRules
from pickups.errors import InvalidPickup, PickupNotFound, TransitionNotAllowed
from pickups.events import PickupBooked, PickupStateChanged
from pickups.interface import StationFinder, StationHours
from pickups.models import Pickup, PickupChange, PickupState
from pickups.references import clean, is_valid, new_reference
from pickups.schemas import PickupDetail, PickupRequest, PickupView, StateChange
from pickups.stations import serving_station, station_hours
from pickups.transitions import check_permission, check_transition
from pickups.windows import check_station_day, check_window

log = get_logger(__name__)

Clock = Callable[[], datetime]
REFERENCE_ATTEMPTS = 8
CUSTOMER_LOOKUP_TIMEOUT = 0.5  # seconds


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Change:
    from_state: PickupState | None
    to_state: PickupState
    reason: str | None


def _assignment(code: str, postal_code: str) -> _Change:
    return _Change(PickupState.booked, PickupState.assigned, f"station {code} serves {postal_code}")


class PickupService:
    """Implements ``pickups.interface.PickupBooking`` (and the routes' changes)."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        stations: StationFinder,
        rules: PickupRules,
        hours: StationHours | None = None,
        clock: Clock = utc_now,
        customers: Callable[[], CustomerLookup] | None = None,
    ) -> None:
        self.db = db
        self.bus = bus
        self.stations = stations
        self.hours = hours
        self.rules = rules
        self.clock = clock
        self.customers = customers  # to link an order to the customer whose number it gives

    # -- reading ---------------------------------------------------------------------------------------
    async def by_reference(self, reference: str) -> PickupView | None:
        pickup = await self._load(clean(reference))
        return None if pickup is None else PickupView.model_validate(pickup)

    async def detail(self, reference: str) -> PickupDetail:
        ref = self.checked_reference(reference)
        pickup = await self._load(ref)
        if pickup is None:
            raise PickupNotFound(f"no pickup {ref}")
        return PickupDetail.model_validate(pickup)

    @staticmethod
    def checked_reference(reference: str) -> str:
        ref = clean(reference)
        if not is_valid(ref):
            raise InvalidPickup(f"{reference!r} is no pickup reference (8 digits, the check digit does not match)")
        return ref

    async def _load(self, reference: str) -> Pickup | None:
        if not is_valid(reference):
            return None
        async with self.db.session() as s:
            stmt = select(Pickup).where(Pickup.reference == reference).options(selectinload(Pickup.history))
            return (await s.execute(stmt)).scalar_one_or_none()

    # -- booking ---------------------------------------------------------------------------------------
    async def _customer_of(self, phone: str) -> int | None:
        """The customer having this number, if the look-up answers in time (the booking never waits on it)."""
        if self.customers is None:
            return None
        try:
            card = await bounded(self.customers().card_by_phone(phone), CUSTOMER_LOOKUP_TIMEOUT)
        except Exception as e:
            log.warning("pickup not linked to a customer: look-up failed", error=repr(e))
            return None
        return card.id if card else None

    async def book(self, request: PickupRequest, by: str) -> PickupView:
        phone = normalise(request.phone)
        if phone is None:
            raise InvalidPickup(f"{request.phone!r} is not a phone number")
        if request.pieces > self.rules.max_pieces:
            raise InvalidPickup(f"at most {self.rules.max_pieces} pieces per pickup")
        if request.weight_kg > self.rules.max_weight_kg:
            raise InvalidPickup(f"at most {self.rules.max_weight_kg:g} kg per pickup")
        now = self.clock()
        check_window(request.ready_at, request.close_at, now, self.rules)
        code, why_not = await self._assignable(request.postal_code, request.ready_at, request.close_at, now)
        customer_id = request.customer_id or await self._customer_of(phone)
        changes = [_Change(None, PickupState.booked, "booked")]
        if code is not None:
            changes.append(
                _Change(PickupState.booked, PickupState.assigned, f"station {code} serves {request.postal_code}")
            )
        for _ in range(REFERENCE_ATTEMPTS):
            pickup = Pickup(
                reference=new_reference(),
                state=changes[-1].to_state,
                name=request.name,
                phone=phone,
                address=request.address,
                postal_code=request.postal_code,
                pieces=request.pieces,
                weight_kg=request.weight_kg,
                goods=request.goods,
                destination=request.destination,
                ready_at=request.ready_at,
                close_at=request.close_at,
                customer_id=customer_id,
                station_code=code,
                unassigned_reason=why_not,
                booked_by=by,
                rebooks=0,
                created_at=now,
                updated_at=now,
            )
            pickup.history = [
                PickupChange(at=now, by=by, from_state=c.from_state, to_state=c.to_state, reason=c.reason)
                for c in changes
            ]
            try:
                async with self.db.session() as s:
                    s.add(pickup)
                    await s.commit()
            except IntegrityError as e:
                if "uq_pickups_reference" in str(e):
                    continue  # drawn before: draw again
                if "fk_pickups_customer_id_customers" in str(e):
                    raise InvalidPickup(f"no customer {request.customer_id}") from e
                raise
            break
        else:
            raise RuntimeError(f"no free reference after {REFERENCE_ATTEMPTS} draws")
        log.info("pickup booked", reference=pickup.reference, station=code, by=by, unassigned=why_not)
        self.bus.publish(
            PickupBooked(
                reference=pickup.reference,
                state=pickup.state.value,
                station_code=code,
                postal_code=pickup.postal_code,
                customer_id=pickup.customer_id,
                ready_at=pickup.ready_at,
                close_at=pickup.close_at,
                by=by,
            )
        )
        return PickupView.model_validate(pickup)

    async def _assignable(
        self, postal_code: str, ready_at: datetime, close_at: datetime, now: datetime
    ) -> tuple[str | None, str | None]:
        """The serving station, its day checked when its hours are known; or why there is none."""
        code, why_not = await serving_station(self.stations, postal_code, self.rules.station_lookup_timeout)
        if code is not None:
            hours = await station_hours(self.hours, code, max(ready_at, now), self.rules.station_lookup_timeout)
            if hours is not None:
                check_station_day(code, ready_at, close_at, now, hours)
        return code, why_not

    # -- changing --------------------------------------------------------------------------------------
    async def change_state(self, reference: str, change: StateChange, by: str, manager: bool) -> PickupDetail:
        """One change (a rebooking may be followed at once by its assignment), under the row's lock."""
        ref = self.checked_reference(reference)
        wanted = PickupState(change.to)
        now = self.clock()
        async with self.db.session() as s:
            pickup = await self._locked(s, ref)
            check_permission(ref, wanted, by, pickup.booked_by, manager)
            check_transition(ref, pickup.state, wanted)
            changes = await self._apply(pickup, wanted, change, now)
            for c in changes:
                pickup.history.append(
                    PickupChange(at=now, by=by, from_state=c.from_state, to_state=c.to_state, reason=c.reason)
                )
            pickup.updated_at = now
            await s.commit()
            detail = PickupDetail.model_validate(pickup)
        for c in changes:
            assert c.from_state is not None
            self.bus.publish(
                PickupStateChanged(
                    reference=ref,
                    from_state=c.from_state.value,
                    to_state=c.to_state.value,
                    station_code=detail.station_code,
                    by=by,
                    reason=c.reason,
                    at=now,
                )
            )
        log.info("pickup changed", reference=ref, to=[c.to_state.value for c in changes], by=by)
        return detail

    async def _locked(self, s: AsyncSession, reference: str) -> Pickup:
        stmt = (
            select(Pickup)
            .where(Pickup.reference == reference)
            .with_for_update(of=Pickup)
            .options(selectinload(Pickup.history))
        )
        pickup = (await s.execute(stmt)).scalar_one_or_none()
        if pickup is None:
            raise PickupNotFound(f"no pickup {reference}")
        return pickup

    async def _apply(self, pickup: Pickup, wanted: PickupState, change: StateChange, now: datetime) -> list[_Change]:
        current = pickup.state
        if wanted == PickupState.failed and not change.reason:
            raise InvalidPickup("say why the pickup failed (reason)")
        if wanted == PickupState.assigned:
            code = await self._station_for(pickup, change.station_code)
            pickup.state, pickup.station_code, pickup.unassigned_reason = wanted, code, None
            return [_Change(current, wanted, change.reason or f"station {code}")]
        if wanted == PickupState.booked:
            return await self._rebook(pickup, change, now)
        pickup.state = wanted
        return [_Change(current, wanted, change.reason)]

    async def _station_for(self, pickup: Pickup, chosen: str | None) -> str:
        if chosen:
            return chosen.upper()
        code, why_not = await serving_station(self.stations, pickup.postal_code, self.rules.station_lookup_timeout)
        if code is None:
            raise TransitionNotAllowed(f"pickup {pickup.reference} cannot be assigned: {why_not}")
        return code

    async def _rebook(self, pickup: Pickup, change: StateChange, now: datetime) -> list[_Change]:
        if pickup.rebooks >= self.rules.max_rebooks:
            raise TransitionNotAllowed(
                f"pickup {pickup.reference} was booked again {pickup.rebooks} times already: book a new one"
            )
        if change.ready_at is None or change.close_at is None:
            raise InvalidPickup("a rebooking needs a new ready_at and close_at")
        for t in (change.ready_at, change.close_at):
            if t.tzinfo is None:
                raise InvalidPickup("give the time zone of ready_at and close_at")
        check_window(change.ready_at, change.close_at, now, self.rules)
        code, why_not = await self._assignable(pickup.postal_code, change.ready_at, change.close_at, now)
        pickup.ready_at, pickup.close_at = change.ready_at, change.close_at
        pickup.rebooks += 1
        changes = [_Change(PickupState.failed, PickupState.booked, change.reason or "booked again")]
        pickup.state, pickup.station_code, pickup.unassigned_reason = PickupState.booked, None, why_not
        if code is not None:
            pickup.state, pickup.station_code = PickupState.assigned, code
            changes.append(
                _Change(PickupState.booked, PickupState.assigned, f"station {code} serves {pickup.postal_code}")
            )
        return changes
