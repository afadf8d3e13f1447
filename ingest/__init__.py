"""Ingest: probe and validate masters, store them content-addressed, keep the title catalog."""
