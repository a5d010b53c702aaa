"""Benchmarks: synthetic dumps and timing scripts (not tests; run them with `python -m`)."""
