"""The work-order behaviour (no HTTP): the desk (open, change, link, revisit, search) and the escalation job."""
