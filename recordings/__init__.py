"""Recordings: the files MixMonitor writes and their metadata."""
