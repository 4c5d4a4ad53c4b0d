"""CRM bridge: customers and what the desk needs to know about a caller."""
