"""Real playback in headless Chromium (Debian's package) driven by Playwright.

The page is the origin's ``/play/{title}``; its script keeps ``window.vodpipe`` up to date, and
this module samples it. Network throttling is DevTools' own emulation, as a developer would set
it by hand. A screenshot is kept whenever a caller asks for one (the tests do on failure).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playwright.sync_api import Browser, Page, sync_playwright

if TYPE_CHECKING:
    from collections.abc import Iterator

CHROMIUM = "/usr/bin/chromium"
# This machine's network is closed: no background traffic, no QUIC, no first-run; root needs no sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip


@dataclass
class Playback:
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last(self) -> dict[str, Any]:
        return self.samples[-1] if self.samples else {}

    @property
    def errors(self) -> list[str]:
        return list(self.last.get("errors", []))

    @property
    def advanced(self) -> float:
        return (
            float(self.last.get("time", 0.0)) - float(self.samples[0].get("time", 0.0))
            if self.samples
            else 0.0
        )


@contextmanager
def chromium(executable: str = CHROMIUM) -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def throttle(page: Page, kbps: float | None, latency_ms: float = 40) -> None:
    """DevTools network emulation; ``None`` lifts it."""
    session = page.context.new_cdp_session(page)
    rate = -1 if kbps is None else kbps * 1000 / 8  # bytes per second
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": latency_ms, "downloadThroughput": rate, "uploadThroughput": rate},
    )


def sample(page: Page) -> dict[str, Any]:
    value: dict[str, Any] = page.evaluate("window.vodpipe ? window.vodpipe.snapshot() : {}")
    return value


def watch(page: Page, seconds: float, playback: Playback, every: float = 0.5) -> Playback:
    """Sample the player's state for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        page.wait_for_timeout(every * 1000)
        playback.samples.append(sample(page))
    return playback


def open_player(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.wait_for_function("window.vodpipe && window.vodpipe.snapshot", timeout=15_000)
    return page


def wait_until_playing(page: Page, timeout: float = 20) -> dict[str, Any]:
    """Block until the video's position moves (or a player error appears)."""
    page.wait_for_function(
        "window.vodpipe.errors.length > 0 || document.getElementById('video').currentTime > 0.5",
        timeout=timeout * 1000,
    )
    return sample(page)


def verdict(playback: Playback, min_advance: float = 3.0, max_dropped: float = 0.1) -> list[str]:
    """What is wrong with a playback, in words; empty when it played."""
    problems = []
    if playback.errors:
        problems.append(f"player errors: {playback.errors}")
    if playback.advanced < min_advance:
        problems.append(f"playback advanced {playback.advanced:.1f} s, expected at least {min_advance:.1f} s")
    decoded, dropped = int(playback.last.get("decoded", 0)), int(playback.last.get("dropped", 0))
    if decoded == 0:
        problems.append("no video frame was decoded")
    elif dropped > decoded * max_dropped:
        problems.append(f"{dropped} of {decoded} frames dropped")
    return problems
