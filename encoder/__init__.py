"""Encoding: ladder planning, FFmpeg argument building, progress, the FFmpeg runner."""
