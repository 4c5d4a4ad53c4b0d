"""Benchmarks: figures and ratios, printed (not asserted). Run with `make bench`."""
