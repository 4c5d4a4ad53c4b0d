"""hotline: an open-source call center built on Asterisk and Python."""
