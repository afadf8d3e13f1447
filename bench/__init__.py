"""Benchmarks: each prints JSON and compares vodpipe with a peer measured in the same run."""
