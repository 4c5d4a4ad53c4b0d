"""IVR: the declarative menu and the FastAGI handler that walks it with the caller."""
