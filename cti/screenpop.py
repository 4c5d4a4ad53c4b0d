"""The screen-pop: what an agent's desk is told about a call while the phone is still ringing."""

from __future__ import annotations

from typing import Any

from cti.calls import Call, now


def build_pop(call: Call, agent: str) -> dict[str, Any]:
    customer = call.customer.model_dump() if call.customer else None
    return {
        "type": "screen_pop",
        "call_id": call.uniqueid,
        "agent": agent,
        "caller": call.caller,
        "known": customer is not None,
        "customer": customer,
        "lookup_failed": call.lookup_failed,
        "queue": call.queue,
        "intent": call.intent,
        "ivr_path": call.ivr_path,
        "recent_contacts": call.history,
        "priority": call.priority,
        "waited_seconds": round((now() - call.queued_at).total_seconds(), 1) if call.queued_at else None,
        "sent_at": now().isoformat(),
    }
