"""The virtual travellers (locust users), weighted and paced the way people use a travel site."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import gevent
from faker import Faker
from locust import FastHttpUser, between, task

from loadtests import journeys, names
from loadtests.catalog import Catalog
from loadtests.tokens import TokenSource

FAKER = Faker()


@dataclass
class RunContext:
    """What every traveller of this process shares; the locustfile fills it at init."""

    catalog: Catalog | None = None
    tokens: TokenSource | None = None
    confirm_deadline_s: float = 30.0
    start_spread_s: float = 0.0


CONTEXT = RunContext()


class Traveller(FastHttpUser):
    """One person with their own token, name and e-mail address."""

    abstract = True
    # A person gives up on a page long before this; a slower answer is a failure to record.
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        """Get this traveller's own token and identity."""
        assert CONTEXT.catalog is not None
        self.catalog = CONTEXT.catalog
        self.rng = random.Random()  # noqa: S311 - traffic dice, not secrets
        self.arrive()
        self.confirm_deadline_s = CONTEXT.confirm_deadline_s
        # Open model: users spawned together would arrive in waves, one per pacing interval;
        # a random first arrival spreads them over it.
        gevent.sleep(self.rng.uniform(0, CONTEXT.start_spread_s))

    def arrive(self) -> None:
        """Become the next person: a virtual user is a stream of travellers, each booking
        once or twice as people do, not one account booking all day (the abuse limits would
        rightly refuse that one: docs/operations.md)."""
        assert CONTEXT.tokens is not None
        self.token = CONTEXT.tokens.next()
        self.contact = {"name": FAKER.name(), "email": FAKER.safe_email()}

    def pick_offer(self, offers: list[dict[str, Any]], seats: int) -> dict[str, Any] | None:
        """Choose among the first offers with enough seats, as a person choosing from a list."""
        fitting = [o for o in offers[:5] if o["available"] >= seats]
        return self.rng.choice(fitting) if fitting else None

    def buy(self, items: list[dict[str, Any]], *, card: str = "ok", expect: str = "confirmed",
            name: str = names.CONFIRMED) -> dict[str, Any] | None:
        """Hold *items*, fill in the payment form, book and wait; None when sold out."""
        held = journeys.hold(self, items)
        if held is None:
            return None
        journeys.think(self, 1, 3)  # the payment form
        return journeys.book(self, held["id"], card=card, expect=expect, name=name,
                             retry_post=self.rng.random() < 0.1)


class Browser(Traveller):
    """Looks at flights and hotels and leaves: most of a travel site's traffic."""

    weight = 12
    wait_time = between(1, 4)

    @task(6)
    def flights(self) -> None:
        """Search a route and day, then open one or two flights."""
        with journeys.journey(self, "browser"):
            route = self.rng.choice(self.catalog.routes)
            offers = journeys.search_flights(
                self, route, passengers=self.rng.choice((1, 1, 1, 2, 2, 3)),
                sort=self.rng.choice(("departure", "departure", "price", "duration")))
            for offer in self.rng.sample(offers, min(len(offers), self.rng.choice((0, 1, 2)))):
                journeys.think(self, 0.5, 2)
                journeys.flight_details(self, offer["id"])

    @task(3)
    def hotels(self) -> None:
        """Search a city's hotels for a stay, then open one."""
        with journeys.journey(self, "browser"):
            if not self.catalog.stays:
                return
            stay = self.rng.choice(self.catalog.stays)
            guests = self.rng.choice((1, 2, 2, 3))
            offers = journeys.search_hotels(self, stay.city, stay.check_in, stay.check_out,
                                            guests)
            if offers:
                journeys.think(self, 0.5, 2)
                journeys.hotel_details(self, self.rng.choice(offers[:5])["id"], stay.check_in,
                                       stay.check_out, guests)


class Booker(Traveller):
    """Searches, holds seats, pays, waits for the confirmation, and sometimes cancels."""

    weight = 5
    wait_time = between(2, 6)

    @task
    def book_a_flight(self) -> None:
        """Search, choose, hold, pay, poll; then look at one's bookings or cancel."""
        self.arrive()
        with journeys.journey(self, "booker"):
            seats = self.rng.choice((1, 1, 2, 2, 3))
            offer = self.pick_offer(journeys.search_flights(
                self, self.rng.choice(self.catalog.routes), passengers=seats), seats)
            if offer is None:
                return
            journeys.think(self, 0.5, 2)
            journeys.flight_details(self, offer["id"])
            booking = self.buy([{"kind": "flight", "flight_id": offer["id"],
                                 "cabin": "economy", "quantity": seats}])
            if booking is None or booking["status"] != "confirmed":
                return
            if self.rng.random() < 0.5:
                journeys.list_bookings(self)
            if self.rng.random() < 0.1:
                journeys.think(self, 1, 3)
                journeys.cancel(self, booking["booking_id"])


class Checkout(Traveller):
    """Only the checkout path, no browsing or form filling: search, hold, pay, wait. What
    `make bench` offers at a constant rate to measure POST /v1/bookings -> confirmed."""

    weight = 1
    wait_time = between(0, 0)  # the open model's pacing replaces think time

    @task
    def check_out(self) -> None:
        """Hold one or two seats on a flight search shows, book at once, poll to the end."""
        self.arrive()
        with journeys.journey(self, "checkout"):
            seats = self.rng.choice((1, 2))
            offer = self.pick_offer(journeys.search_flights(
                self, self.rng.choice(self.catalog.routes), passengers=seats), seats)
            if offer is None:
                return
            held = journeys.hold(self, [{"kind": "flight", "flight_id": offer["id"],
                                         "cabin": "economy", "quantity": seats}])
            if held is not None:
                journeys.book(self, held["id"])


class TripBooker(Traveller):
    """Books seats and room nights at the destination in one hold (all or nothing)."""

    weight = 2
    wait_time = between(2, 6)

    @task
    def book_a_trip(self) -> None:
        """Find a flight and a hotel in its destination city, hold both, pay, poll."""
        self.arrive()
        with journeys.journey(self, "trip"):
            routes = [r for r in self.catalog.routes if r.destination in self.catalog.city_of]
            route = self.rng.choice(routes)
            guests = self.rng.choice((1, 2, 2))
            offer = self.pick_offer(journeys.search_flights(self, route, passengers=guests),
                                    guests)
            if offer is None:
                return
            check_in = date.fromisoformat(route.date)
            check_out = check_in + timedelta(days=self.rng.randint(2, 4))
            hotels = journeys.search_hotels(self, self.catalog.city_of[route.destination],
                                            check_in.isoformat(), check_out.isoformat(), guests)
            rooms = [(h, r) for h in hotels[:5] for r in h["room_types"] if r["available"]]
            if not rooms:
                return
            hotel, room = self.rng.choice(rooms)
            journeys.think(self, 1, 3)
            self.buy([{"kind": "flight", "flight_id": offer["id"], "cabin": "economy",
                       "quantity": guests},
                      {"kind": "hotel", "hotel_id": hotel["id"], "room_type": room["code"],
                       "check_in": check_in.isoformat(), "check_out": check_out.isoformat(),
                       "rooms": room["rooms"]}])


class CardTrouble(Traveller):
    """Pays with a card that is declined (booking `failed`) or fails once, then succeeds."""

    weight = 1
    wait_time = between(2, 6)

    @task
    def book_with_a_difficult_card(self) -> None:
        """Hold one seat and pay with a declined or a transiently failing test card."""
        self.arrive()
        with journeys.journey(self, "card-trouble"):
            offer = self.pick_offer(journeys.search_flights(
                self, self.rng.choice(self.catalog.routes)), 1)
            if offer is None:
                return
            item = [{"kind": "flight", "flight_id": offer["id"], "cabin": "economy",
                     "quantity": 1}]
            if self.rng.random() < 0.6:
                self.buy(item, card="declined", expect="failed", name=names.DECLINED)
            else:
                self.buy(item, card="transient", name=names.CONFIRMED_AFTER_RETRY)


class FlashBuyer(Traveller):
    """Races everyone else for the flash sale's small cabin; `sold_out` is an expected answer."""

    weight = 30
    wait_time = between(0.5, 2)

    @task
    def race_for_a_seat(self) -> None:
        """Look at the flight, try to hold a seat, and pay if the hold was won."""
        self.arrive()
        with journeys.journey(self, "flash-buyer"):
            flight_id = self.catalog.flash_flight_id
            assert flight_id is not None, "the flash-sale scenario needs its flight"
            journeys.flight_details(self, flight_id)
            item = [{"kind": "flight", "flight_id": flight_id, "cabin": "economy",
                     "quantity": self.rng.choice((1, 1, 2))}]
            # A few winners' cards are declined: their seats go back on sale mid-race.
            if self.rng.random() < 0.1:
                self.buy(item, card="declined", expect="failed", name=names.DECLINED)
            else:
                self.buy(item)
