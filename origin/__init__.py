"""The aiohttp origin: serves ``media/`` with edge-ready cache headers."""
