"""Driving the booking page in headless Chromium: launch, page guards, and a traveller's steps."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, Page, Request, Route, async_playwright, expect

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "reports" / "web"
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
# Every wait has a deadline: page steps answer in well under a second locally; a booking
# goes through the queue, the worker and the payment simulator.
STEP_MS = 10_000
SAGA_MS = 30_000
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


def chromium() -> str:
    """Return Debian's chromium, or fail with how to install it."""
    assert CHROMIUM.exists(), "chromium is missing: `make chromium` (apt-get install chromium)"
    return str(CHROMIUM)


async def launch() -> AsyncIterator[Browser]:
    """Yield Debian's headless Chromium, driven by Playwright."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium(), args=FLAGS,
                                                   timeout=30_000)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Guard:
    """What a page did that it must not: requests off this machine, script errors."""

    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check(self) -> None:
        """Fail if the page reached another host or threw."""
        assert not self.outside, f"the page requested other hosts: {self.outside}"
        assert not self.errors, f"the page threw: {self.errors}"


async def open_page(browser: Browser, url: str, *, clock: bool = False) -> tuple[Page, Guard]:
    """Open the page at *url* in a fresh context that refuses any request off 127.0.0.1.

    With *clock*, the page's timers and Date run on Playwright's clock, which a test can move.
    """
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(STEP_MS)
    guard = Guard()

    async def local_only(route: Route, request: Request) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith("data:") or host == "127.0.0.1":
            await route.continue_()
        else:
            guard.outside.append(request.url)
            await route.abort()

    await context.route("**/*", local_only)
    page = await context.new_page()
    page.on("pageerror", lambda exc: guard.errors.append(str(exc)))
    # What the edge's Content-Security-Policy header blocks, chromium reports on the console.
    page.on("console", lambda msg: guard.errors.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    if clock:
        await page.clock.install()
    if url != "about:blank":
        await page.goto(url)
        await expect(page.locator("body[data-ready=true]")).to_be_attached()
    return page, guard


async def sign_in(page: Page, name: str) -> None:
    """Sign in with a traveller name (the local stack's development sign-in)."""
    await page.get_by_label("Traveller name").fill(name)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.locator("#who-name")).to_have_text(name)


async def show_flight(page: Page, flight: dict[str, Any], *, passengers: int = 2) -> Any:
    """Search the flight's route and day on the page; return the flight's result row."""
    form = page.locator("#flight-form")
    await form.get_by_label("From (airport code)").fill(flight["origin"])
    await form.get_by_label("To (airport code)").fill(flight["destination"])
    await form.get_by_label("Date").fill(date.fromisoformat(flight["departure_local"][:10])
                                         .isoformat())
    await form.get_by_label("Passengers").select_option(str(passengers))
    await form.get_by_role("button", name="Search flights").click()
    row = page.locator(f'#flight-results li[data-flight="{flight["id"]}"]')
    await expect(row).to_be_visible()
    return row


async def seats_left(row: Any) -> int:
    """Return the seats left that a flight row shows."""
    text = await row.locator(".left").inner_text()
    match = re.match(r"(\d+) seats? left", text)
    assert match, text
    return int(match.group(1))


async def add_first_room(page: Page, city: str) -> None:
    """Search hotels in *city* and add the first room offer to the trip."""
    await page.locator("#hotel-form").get_by_label("City").fill(city)
    await page.get_by_role("button", name="Search hotels").click()
    first = page.locator("#hotel-results li.offer").first
    await expect(first).to_be_visible()
    await first.get_by_role("button", name=re.compile("^Add ")).click()


async def hold_trip(page: Page) -> None:
    """Hold the trip and wait for the countdown."""
    await page.get_by_role("button", name="Hold these").click()
    await expect(page.locator("#countdown")).to_have_text(re.compile(r"^\d+:\d\d left$"))


async def pay(page: Page, card: str, *, email: str = "ada@example.com") -> str:
    """Pay for the hold with *card*; return the booking id once it left `pending`."""
    await page.get_by_label("Card number").fill(card)
    await page.get_by_label("E-mail for the confirmation").fill(email)
    await page.get_by_label("Name on the booking").fill("Ada Lovelace")
    await page.locator("#pay").click()
    status = page.locator("#booking-status")
    await expect(status).to_have_text(re.compile("^(confirmed|failed)$"), timeout=SAGA_MS)
    booking_id = await page.locator("#booking-id").inner_text()
    assert re.fullmatch("[0-9a-f]{32}", booking_id), booking_id
    return booking_id


async def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under reports/web/."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / f"{name}.png"
    # From the top, where the sticky notices belong in a full-page picture.
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(path), full_page=True)
    return path
