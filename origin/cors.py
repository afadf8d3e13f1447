"""The CORS fields every origin response carries: players on any page may read media (Fetch
standard, CORS protocol). Media hits carry them in their prebuilt headers; other responses get
them from the app's ``on_response_prepare`` signal."""

from __future__ import annotations

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Length, Content-Range, ETag, Accept-Ranges, Date, Age",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Range, If-None-Match, If-Modified-Since, If-Range, Authorization",
    "Access-Control-Max-Age": "86400",
}
