"""Playback verification: stream conformance checks, decode checks, ABR simulation, real browsers.

Independent of the packager on purpose: it reads media with its own box walker, so a packager
bug cannot hide behind shared code. Nothing in the product imports it.
"""
