"""The booking page in headless Chromium, served by the local CloudFront from the web bucket."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import aiomysql
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import auth, cabin_counts, find_flight
from tests.e2e.web import (
    DECLINED_CARD,
    GOOD_CARD,
    REPORTS,
    SAGA_MS,
    add_first_room,
    hold_trip,
    launch,
    open_page,
    pay,
    screenshot,
    seats_left,
    show_flight,
    sign_in,
)
from tests.waiting import eventually

# The browser tier: these drive Debian's chromium (make test-browser runs them alone).
pytestmark = pytest.mark.browser
FIRST_LOAD_BUDGET = 100 * 1024


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the module."""
    async for launched in launch():
        yield launched


def web_url(stack: RunningStack) -> str:
    """Return the local CloudFront's URL, where travellers open the page."""
    return f"http://127.0.0.1:{stack.config.cloudfront_port}"


async def test_traveller_books_a_flight_and_a_hotel_and_sees_confirmed(
        stack: RunningStack, browser: Browser, http: aiohttp.ClientSession) -> None:
    """Sign in, search, hold a flight and a hotel room (countdown running), pay: `confirmed`."""
    # GIVEN the page, and a flight no other test touches
    flight = await find_flight(http, stack.url, seats=2)
    page, guard = await open_page(browser, web_url(stack))
    await sign_in(page, "ada")

    # WHEN she adds the flight and a hotel room to her trip and holds them
    row = await show_flight(page, flight)
    await row.get_by_role("button", name=re.compile("^Add ")).click()
    await add_first_room(page, "London")
    await expect(page.locator("#trip-items li")).to_have_count(2)
    await hold_trip(page)

    # THEN the hold shows both items and a countdown that runs
    await expect(page.locator("#hold-items li")).to_have_count(2)
    countdown = page.locator("#countdown")
    shown = await countdown.inner_text()
    await expect(countdown).not_to_have_text(shown, timeout=3_000)
    await screenshot(page, "hold")

    # WHEN she pays with a good card
    booking_id = await pay(page, GOOD_CARD)

    # THEN the booking is confirmed on the page and in her list, as the API says
    await expect(page.locator("#booking-status")).to_have_text("confirmed")
    listed = page.locator(f'#booking-list li[data-booking="{booking_id}"] .badge')
    await expect(listed).to_have_text("confirmed")
    async with http.get(f"{stack.url}/v1/bookings/{booking_id}",
                        headers=auth(stack.token("ada"))) as resp:
        booking = await resp.json()
    assert booking["status"] == "confirmed"
    assert {i["kind"] for i in booking["items"]} == {"flight", "hotel"}
    await screenshot(page, "booking-confirmed")
    guard.check()


async def test_declined_card_shows_its_message_and_the_seats_come_back(
        stack: RunningStack, browser: Browser, http: aiohttp.ClientSession,
        db: aiomysql.Pool) -> None:
    """A declined card ends `failed` with the card message; search shows the seats again."""
    # GIVEN a flight with its seats left as the page shows them
    flight = await find_flight(http, stack.url, seats=2)
    before = await cabin_counts(db, flight["id"])
    page, guard = await open_page(browser, web_url(stack))
    await sign_in(page, "grace")
    row = await show_flight(page, flight)
    shown_before = await seats_left(row)

    # WHEN she holds two seats and pays with the declined test card
    await row.get_by_role("button", name=re.compile("^Add ")).click()
    await hold_trip(page)
    await pay(page, DECLINED_CARD)

    # THEN the page says the card was declined and the booking failed
    await expect(page.locator("#booking-status")).to_have_text("failed")
    await expect(page.get_by_role("alert")).to_contain_text("card was declined")
    await screenshot(page, "card-declined")

    # AND searching again shows the seats back (the search cache lives 1 s here)
    async def seats_back() -> bool:
        again = await show_flight(page, flight)
        return await seats_left(again) == shown_before

    await eventually(seats_back, within=10, every=0.3,
                     what="search showed the released seats again")
    after = await cabin_counts(db, flight["id"])
    assert (after["available"], after["held"], after["sold"]) == \
        (before["available"], before["held"], before["sold"])
    guard.check()


async def test_cancelling_a_booking_shows_cancelled(
        stack: RunningStack, browser: Browser, http: aiohttp.ClientSession,
        db: aiomysql.Pool) -> None:
    """A confirmed booking's Cancel button ends it `cancelled`, with the seats back on sale."""
    # GIVEN a confirmed booking made on the page
    flight = await find_flight(http, stack.url, seats=2)
    before = await cabin_counts(db, flight["id"])
    page, guard = await open_page(browser, web_url(stack))
    await sign_in(page, "linus")
    row = await show_flight(page, flight)
    await row.get_by_role("button", name=re.compile("^Add ")).click()
    await hold_trip(page)
    booking_id = await pay(page, GOOD_CARD)
    await expect(page.locator("#booking-status")).to_have_text("confirmed")

    # WHEN she cancels it from her bookings
    listed = page.locator(f'#booking-list li[data-booking="{booking_id}"]')
    await listed.get_by_role("button", name=re.compile("^Cancel")).click()

    # THEN the list shows it cancelled, and the seats are available again
    await expect(page.locator(f'#booking-list li[data-booking="{booking_id}"] .badge')
                 ).to_have_text("cancelled", timeout=SAGA_MS)
    await expect(page.get_by_role("status")).to_contain_text("cancelled")
    after = await cabin_counts(db, flight["id"])
    assert after["available"] == before["available"]
    await screenshot(page, "booking-cancelled")
    guard.check()


async def _axe(page: Page, state: str, found: dict[str, Any]) -> list[dict[str, Any]]:
    results = await Axe().run(page)
    violations = results.response["violations"]
    found[state] = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                     "nodes": [n["target"] for n in v["nodes"]]} for v in violations]
    return [v for v in violations if v["impact"] in ("serious", "critical")]


async def test_the_page_has_no_serious_accessibility_violation_and_works_by_keyboard(
        stack: RunningStack, browser: Browser, http: aiohttp.ClientSession) -> None:
    """axe-core finds nothing serious signed out, with results, on a hold; keys alone book."""
    flight = await find_flight(http, stack.url, seats=1)
    page, guard = await open_page(browser, web_url(stack))
    found: dict[str, Any] = {}
    serious = await _axe(page, "signed out", found)

    # Keyboard only: Tab to the name, type it, Enter signs in and moves focus to the search.
    await page.keyboard.press("Tab")  # the skip link
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Traveller name")).to_be_focused()
    await page.keyboard.type("hopper")
    await page.keyboard.press("Enter")
    await expect(page.locator("#who-name")).to_have_text("hopper")
    await expect(page.get_by_label("From (airport code)")).to_be_focused()

    # Enter in a field searches and focuses the results' heading; Tab reaches an offer.
    form = page.locator("#flight-form")
    await form.get_by_label("From (airport code)").fill(flight["origin"])
    await form.get_by_label("Date").fill(flight["departure_local"][:10])
    await form.get_by_label("Passengers").select_option("1")
    await form.get_by_label("To (airport code)").fill(flight["destination"])
    await form.get_by_label("To (airport code)").press("Enter")
    await expect(page.locator("#flight-results h3")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.locator("#flight-results li button").first).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#trip-items li")).to_have_count(1)
    await add_first_room(page, "Paris")
    serious += await _axe(page, "results and trip", found)

    await page.get_by_role("button", name="Hold these").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#hold-title")).to_be_focused()
    await expect(page.get_by_label("Card number")).to_be_visible()
    serious += await _axe(page, "hold and payment form", found)
    await page.get_by_role("button", name="Release the hold").click()
    await expect(page.get_by_role("status")).to_contain_text("Hold released")

    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "axe.json").write_text(json.dumps(found, indent=2))
    assert not serious, json.dumps(found, indent=2)
    guard.check()


async def test_first_load_is_small_and_local(stack: RunningStack, browser: Browser) -> None:
    """The page, its script, style and settings weigh under 100 KB and come from one host."""
    transferred: list[int] = []
    page, guard = await open_page(browser, "about:blank")

    async def count(request: Any) -> None:
        sizes = await request.sizes()
        transferred.append(sizes["responseBodySize"] + sizes["responseHeadersSize"])

    page.on("requestfinished", count)
    await page.goto(web_url(stack))
    await expect(page.locator("body[data-ready=true]")).to_be_attached()
    await page.wait_for_load_state("networkidle")
    assert 3 <= len(transferred) <= 5, transferred  # HTML, CSS, JS, config.json
    assert sum(transferred) < FIRST_LOAD_BUDGET, transferred
    guard.check()


async def _problem(route: Any, status: int, code: str, detail: str,
                   retry_after: int | None = None) -> None:
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    await route.fulfill(status=status, content_type="application/problem+json",
                        headers=headers, body=json.dumps({
                            "type": f"https://itinera.dev/problems/{code}", "title": code,
                            "status": status, "code": code, "detail": detail}))


async def test_sold_out_rate_limited_unavailable_and_expired_holds_read_clearly(
        stack: RunningStack, browser: Browser, http: aiohttp.ClientSession) -> None:
    """Each problem code the page can meet becomes a plain sentence in the alert."""
    flight = await find_flight(http, stack.url, seats=1)
    page, guard = await open_page(browser, web_url(stack), clock=True)
    await sign_in(page, "barbara")
    alert = page.get_by_role("alert")

    # The gateway's answers, as it words them, for what the demo stack rarely does on cue.
    await page.route("**/v1/flights?*", lambda route: _problem(
        route, 429, "rate_limited", "too many searches", retry_after=3))
    await page.get_by_role("button", name="Search flights").click()
    await expect(alert).to_have_text("Too many requests in a short time. Try again in 3 s.")
    await page.unroute("**/v1/flights?*")

    await page.route("**/v1/hotels?*", lambda route: _problem(
        route, 503, "dependency_unavailable", "the inventory service is unavailable",
        retry_after=2))
    await page.get_by_role("button", name="Search hotels").click()
    await expect(alert).to_contain_text("unavailable right now (the inventory service is "
                                        "unavailable). Try again in 2 s.")
    await page.unroute("**/v1/hotels?*")

    row = await show_flight(page, flight, passengers=1)
    await row.get_by_role("button", name=re.compile("^Add ")).click()
    await page.route("**/v1/holds", lambda route: _problem(
        route, 409, "sold_out", "economy on this flight has 0 seats left"))
    await page.get_by_role("button", name="Hold these").click()
    await expect(alert).to_contain_text("Sold out")
    await page.unroute("**/v1/holds")

    # A real hold; the page's clock runs past its expiry.
    await hold_trip(page)
    await page.clock.fast_forward("16:00")
    await expect(page.locator("#countdown")).to_have_text("expired")
    await expect(alert).to_contain_text("Your hold has expired")
    await expect(page.locator("#pay")).to_be_disabled()
    await screenshot(page, "hold-expired")
    hold_id = await page.evaluate("state.hold.id")
    async with http.delete(f"{stack.url}/v1/holds/{hold_id}",
                           headers=auth(stack.token("barbara"))) as resp:
        assert resp.status == 200  # the server's clock did not move: give the seat back
    guard.check()
