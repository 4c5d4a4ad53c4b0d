"""An external CRM beside the local customer records: look-ups by phone (cached, bounded, behind a circuit
breaker, falling back to the local record) and durable write-back of interactions and work orders.
The HTTP contract is docs/EXTERNAL-CRM.md; the settings are external_crm.toml (off by default)."""
