"""What the IVR asks of other packages, through their service interfaces only, each call bounded.

A service nobody provides is ``None`` (the menu's ``unavailable``/``failed`` branches then apply); a
slow or failing one raises ``Failure`` (the caller hears an apology and reaches a person).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from acd.interface import CALLBACKS, QUEUE_LOAD, ROUTER, CallbackRequest, QueueLoad, RoutingRequest
from crm_bridge.interface import CALLER_PROFILE, CustomerLookup
from hotline.bounded import bounded
from hotline.logs import get_logger
from hotline.plugins import MissingService, ServiceKey, Services
from hotline.routing import RoutingDecision
from ivr.call import Call, Failure
from pickups.interface import PICKUPS
from pickups.schemas import PickupRequest
from shipments.errors import InvalidWaybill
from shipments.interface import SHIPMENTS, STATIONS
from workorders.interface import WORK_ORDERS
from workorders.schemas import NewWorkOrder

log = get_logger(__name__)
T = TypeVar("T")
BY = "ivr"  # who opened a work order or booked a pickup
ROUTER_TIMEOUT = 1.0


class Domain:
    def __init__(
        self,
        customers: CustomerLookup,
        services: Services,
        clock: Callable[[], datetime],
        timeout: float,
    ) -> None:
        self.customers = customers
        self.services = services
        self.clock = clock
        self.timeout = timeout

    def get(self, key: ServiceKey[T]) -> T | None:
        try:
            return self.services.get(key)
        except MissingService:
            return None

    async def _bounded(self, what: str, work: Awaitable[T], timeout: float | None = None) -> T:
        try:
            return await bounded(work, timeout or self.timeout)
        except Failure:
            raise
        except Exception as e:
            log.warning(f"IVR: {what} failed", error=repr(e))
            raise Failure(f"{what}: {e!r}") from e

    # ---- look-ups --------------------------------------------------------------------------------
    async def customer(self, call: Call, number: str | None) -> bool:
        if number is None:
            if call.lookup_failed:
                raise Failure("the caller look-up failed")
            card = call.card
        else:
            card = await self._bounded("customer look-up", self.customers.card_by_phone(number))
        if card is None:
            return False
        call.set_found("customer", {"id": card.id, "name": card.name, "tier": card.tier})
        profile = self.get(CALLER_PROFILE)
        if profile is not None:
            try:
                addresses = await bounded(profile.addresses(card.id), self.timeout)
            except Exception as e:  # the card is enough to go on; the address is offered only if known
                log.warning("IVR: addresses not read", error=repr(e))
                addresses = []
            if addresses:
                call.set_found("customer", {"address": addresses[0].text, "postal_code": addresses[0].postal_code})
        return True

    async def shipment(self, call: Call, waybill: str) -> bool:
        source = self.get(SHIPMENTS)
        if source is None:
            raise Failure("no shipments service")
        try:
            found = await self._bounded("tracking", source.track(waybill))
        except Failure as e:
            if isinstance(e.__cause__, InvalidWaybill):
                return False
            raise
        if found is None:
            return False
        call.vars["waybill"] = found.waybill
        call.set_found(
            "shipment",
            {
                "status": found.status.value,
                "origin": found.origin,
                "destination": found.destination,
                "last_scan_place": found.last_scan_place,
                "last_scan_at": found.last_scan_at,
                "exception": found.exception.value if found.exception else None,
            },
        )
        return True

    async def station(self, call: Call, postal_code: str) -> bool:
        stations = self.get(STATIONS)
        if stations is None:
            raise Failure("no stations service")
        view = await self._bounded("station look-up", stations.serving(postal_code))
        if view is None:
            return False
        state = await self._bounded("station hours", stations.opening(view.code, self.clock()))
        call.set_found(
            "station",
            {
                "code": view.code,
                "name": view.name,
                "city": view.city,
                "address": view.address,
                "open": "yes" if state.open else None,
                "closes_at": state.closes_at,
                "next_open": state.next_open,
            },
        )
        return True

    async def queue_load(self, queue: str) -> QueueLoad | None:
        """The queue's live load (bounded), None without the ACD's figures; raises ``Failure``."""
        loads = self.get(QUEUE_LOAD)
        if loads is None:
            return None
        return await self._bounded("queue load", loads.load(queue))

    # ---- actions ---------------------------------------------------------------------------------
    async def open_work_order(self, call: Call, params: dict[str, str]) -> int | None:
        desk = self.get(WORK_ORDERS)
        if desk is None:
            return None
        values = {k: call.render(v) for k, v in params.items()}
        try:
            order = NewWorkOrder.model_validate(
                {
                    "type": values.get("type") or "inquiry",
                    "claim_kind": values.get("claim_kind") or None,
                    "subject": values.get("subject") or "Opened in the IVR",
                    "notes": values.get("notes") or None,
                    "customer_id": call.card.id if call.card else None,
                    "waybill": values.get("waybill") or None,
                    "call_id": call.call_id or None,
                }
            )
        except ValueError as e:
            raise Failure(f"work order not valid: {e}") from e
        summary = await self._bounded("work order", desk.open(order, BY))
        call.vars["work_order_id"] = str(summary.id)
        return summary.id

    async def book_pickup(self, call: Call, params: dict[str, str], zone: str) -> str | None:
        booking = self.get(PICKUPS)
        if booking is None:
            return None
        if call.card is None:
            raise Failure("a pickup needs a known caller")
        values = {k: call.render(v) for k, v in params.items()}
        ready_at, close_at = _window(values, self.clock(), ZoneInfo(zone))
        pieces = int(values.get("pieces") or 1)
        try:
            request = PickupRequest(
                name=call.card.name,
                phone=call.caller or call.card.phone,
                address=values.get("address") or "",
                postal_code=values.get("postal_code") or "",
                pieces=pieces,
                weight_kg=float(values.get("weight_kg_per_piece") or 1) * pieces,
                goods=values.get("goods") or "parcels",
                destination=values.get("destination") or "to be given to the courier",
                ready_at=ready_at,
                close_at=close_at,
                customer_id=call.card.id,
            )
        except ValueError as e:
            raise Failure(f"pickup not valid: {e}") from e
        view = await self._bounded("pickup booking", booking.book(request, BY))
        call.set_found("pickup", {"reference": view.reference, "station": view.station_code})
        return view.reference

    async def callback(self, call: Call, queue: str, reason: str, not_before: datetime | None) -> bool:
        callbacks = self.get(CALLBACKS)
        if callbacks is None:
            return False
        request = CallbackRequest(
            number=call.caller,
            customer_id=call.card.id if call.card else None,
            queue=queue,
            reason=reason,  # type: ignore[arg-type]
            call_id=call.call_id,
            language=call.language,
            intent=call.vars.get("intent"),
            not_before=not_before,
        )
        await self._bounded("callback request", callbacks.request(request))
        return True

    async def route(self, call: Call, fallback: RoutingDecision) -> RoutingDecision:
        """The ACD's decision when it has a router (bounded), else the menu's own."""
        router = self.get(ROUTER)
        if router is None:
            return fallback
        request = RoutingRequest(
            call_id=call.call_id,
            caller=call.caller,
            customer=call.card,
            intent=fallback.intent,
            queue=fallback.queue,
            # the menu's own language is no preference (every caller starts in it); another one is asked for,
            # and a known caller's record speaks for them otherwise
            language=call.language if call.language != call.menu.default_language else None,
            waybill=call.vars.get("waybill"),
            work_order_id=call.int_var("work_order_id"),
            ivr_path=fallback.ivr_path,
        )
        try:
            decision = await bounded(router.decide(request), ROUTER_TIMEOUT)
        except Exception as e:
            log.warning("IVR: the router did not answer; the menu's queue is used", error=repr(e))
            return fallback
        return decision.model_copy(update={"ivr_path": fallback.ivr_path})

    async def remember_language(self, call: Call) -> None:
        profile = self.get(CALLER_PROFILE)
        if profile is None or call.card is None:
            return
        try:
            await bounded(profile.set_language(call.card.id, call.language), self.timeout)
        except Exception as e:
            log.warning("IVR: the language choice was not remembered", error=repr(e))


def _window(values: dict[str, Any], now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The pickup's ready and close times: ``ready`` as HHMM on today (``day`` 1) or tomorrow (2); a time
    already past means now; ``window_minutes`` later (120 by default) it closes."""
    local = now.astimezone(zone)
    hhmm = str(values.get("ready") or "").zfill(4)
    day = local.date() + timedelta(days=1 if str(values.get("day")) == "2" else 0)
    try:
        ready = datetime(day.year, day.month, day.day, int(hhmm[:2]), int(hhmm[2:4]), tzinfo=zone)
    except ValueError as e:
        raise Failure(f"not a time: {hhmm!r}") from e
    ready = max(ready, now)
    return ready, ready + timedelta(minutes=int(values.get("window_minutes") or 120))
