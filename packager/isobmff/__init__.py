"""ISO/IEC 14496-12 box reading and writing: bytes in, bytes out, no file handles."""

from __future__ import annotations

from packager.isobmff.box import Box, box, child, full_box, iter_boxes, parse_full_header

__all__ = ["Box", "box", "child", "full_box", "iter_boxes", "parse_full_header"]
