"""CMS: the queue log, one interaction row per call, and the figures built from them."""
