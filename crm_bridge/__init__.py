"""CRM bridge: customers (numbers, addresses, agreements, tiers graded from shipment history), the tickets
still kept here, and what the desk needs to know about a caller."""
