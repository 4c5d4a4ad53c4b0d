"""A voicemail left at a queue's exit becomes a work order (through ``workorders.interface.WORK_ORDERS``), so
somebody owns calling the customer back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotline.logs import get_logger
from workorders.interface import WorkOrderDesk
from workorders.schemas import NewWorkOrder

log = get_logger(__name__)

BY = "acd"


class VoicemailOrders:
    def __init__(self, desk: Callable[[], WorkOrderDesk | None], mailbox: str) -> None:
        self.desk = desk  # late-bound: the work-order package may be wired after the ACD
        self.mailbox = mailbox
        self.opened = 0

    async def on_UserEvent(self, e: dict[str, Any]) -> None:
        if e.get("UserEvent") != "HotlineVoicemail" or e.get("Status") != "SUCCESS":
            return
        desk = self.desk()
        if desk is None:
            log.warning("voicemail left but no work-order desk to open an order on")
            return
        caller = (e.get("Caller") or "unknown").strip()[:32]
        customer = (e.get("Customer") or "").strip()
        call_id = e.get("Linkedid") or e.get("Uniqueid")
        order = NewWorkOrder.model_validate(
            {
                "type": "inquiry",
                "subject": f"Voicemail from {caller}: call back",
                "notes": f"Voicemail in mailbox {self.mailbox} (queue {e.get('Queue') or '?'}, call {call_id}).",
                "customer_id": int(customer) if customer.isdigit() else None,
                "call_id": call_id,
            }
        )
        try:
            opened = await desk.open(order, by=BY)
        except Exception as exc:
            log.error("voicemail work order not opened", call=call_id, error=repr(exc))
            return
        self.opened += 1
        log.info("voicemail work order opened", call=call_id, work_order=opened.id)
