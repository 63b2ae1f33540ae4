"""Minimal echo bots the benchmark compares the product with; never part of the product."""
