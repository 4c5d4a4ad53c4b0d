"""CRM bridge: customers (numbers, addresses, agreements, tiers graded from shipment history), what the desk
needs to know about a caller, and the adapter to an external CRM."""
