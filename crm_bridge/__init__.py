"""CRM bridge: customers, tickets (work orders) and what the desk needs to know about a caller."""
