"""The public API, one operation per line of this table: routes and document come from it."""

from __future__ import annotations

from gateway import views
from gateway.operations import Operation
from itinera.api.admin import (
    CabinCapacity,
    CabinStock,
    HoldListing,
    NewFlight,
    NewHotel,
    NightsCapacity,
    RoomStock,
)
from itinera.api.bookings import Booking, BookingList, BookingPage, BookingRequest
from itinera.api.holds import Hold, HoldPage, HoldRequest
from itinera.api.search import (
    Flight,
    FlightPage,
    FlightSearch,
    Hotel,
    HotelPage,
    HotelSearch,
    HotelStay,
)

# Links: how a client (and schemathesis's stateful phase) walks search -> hold -> book.
HOLD_ID = {"path.hold_id": "$response.body#/id"}
BOOKING_ID = {"path.booking_id": "$response.body#/booking_id"}
HOLD_FIRST_FLIGHT = {"items": [{"kind": "flight", "flight_id": "$response.body#/items/0/id",
                                "cabin": "$response.body#/items/0/cabin", "quantity": 1}]}

OPERATIONS = [
    Operation(operation_id="searchFlights", method="GET", path="/v1/flights",
              handler=views.search_flights, summary="Search one-way flights", cached=True,
              query=FlightSearch, response=FlightPage, errors=(400, 422, 429),
              links={"HoldFirstFlight": {"operationId": "createHold",
                                         "requestBody": HOLD_FIRST_FLIGHT}}),
    Operation(operation_id="getFlight", method="GET", path="/v1/flights/{flight_id}",
              handler=views.flight_details, summary="A flight with live availability",
              response=Flight, errors=(400, 404, 429)),
    Operation(operation_id="searchHotels", method="GET", path="/v1/hotels",
              handler=views.search_hotels, cached=True,
              summary="Search hotels with rooms free every night of the stay",
              query=HotelSearch, response=HotelPage, errors=(400, 422, 429)),
    Operation(operation_id="getHotel", method="GET", path="/v1/hotels/{hotel_id}",
              handler=views.hotel_details,
              summary="A hotel with live availability for given dates",
              query=HotelStay, response=Hotel, errors=(400, 404, 422, 429)),
    Operation(operation_id="createHold", method="POST", path="/v1/holds",
              handler=views.create_hold, auth="traveller", idempotency="optional",
              summary="Hold seats and rooms, all or nothing (409 sold_out; 429 past the "
                      "traveller's hold limits)", ok=201,
              body=HoldRequest, response=Hold, errors=(400, 409, 413, 415, 422, 429),
              links={"GetHold": {"operationId": "getHold", "parameters": HOLD_ID},
                     "ReleaseHold": {"operationId": "releaseHold", "parameters": HOLD_ID},
                     "BookHold": {"operationId": "createBooking",
                                  "requestBody": {"hold_id": "$response.body#/id"}}}),
    Operation(operation_id="getHold", method="GET", path="/v1/holds/{hold_id}",
              handler=views.hold, auth="traveller", summary="Read your hold", response=Hold,
              errors=(400, 404)),
    Operation(operation_id="releaseHold", method="DELETE", path="/v1/holds/{hold_id}",
              handler=views.hold, auth="traveller",
              summary="Release your hold (409 while a booking pays for it)", response=Hold,
              errors=(400, 404, 409)),
    Operation(operation_id="createBooking", method="POST", path="/v1/bookings",
              handler=views.create_booking, auth="traveller", idempotency="required",
              summary="Start checkout for your hold (429 past the booking and card limits)",
              ok=202, body=BookingRequest,
              response=Booking, errors=(400, 404, 409, 413, 415, 422, 429),
              links={"GetBooking": {"operationId": "getBooking", "parameters": BOOKING_ID},
                     "CancelBooking": {"operationId": "cancelBooking",
                                       "parameters": BOOKING_ID}}),
    Operation(operation_id="listBookings", method="GET", path="/v1/bookings",
              handler=views.list_bookings, auth="traveller",
              summary="Your bookings, newest first", query=BookingList, response=BookingPage,
              errors=(400,)),
    Operation(operation_id="getBooking", method="GET", path="/v1/bookings/{booking_id}",
              handler=views.booking, auth="traveller", summary="Your booking",
              response=Booking, errors=(404,)),
    Operation(operation_id="cancelBooking", method="POST",
              path="/v1/bookings/{booking_id}/cancel", handler=views.cancel_booking,
              auth="traveller", summary="Cancel, refund and release (confirmed bookings)",
              ok=202, response=Booking, errors=(404, 409)),
    Operation(operation_id="createFlight", method="POST", path="/v1/admin/flights",
              handler=views.create_flight, auth="admin", tag="operators",
              summary="Add a flight", ok=201, body=NewFlight, response=Flight,
              errors=(400, 409, 413, 415, 422)),
    Operation(operation_id="setCabinCapacity", method="PATCH",
              path="/v1/admin/flights/{flight_id}/cabins/{cabin}",
              handler=views.set_cabin_capacity, auth="admin", tag="operators",
              summary="Change a cabin's capacity (never below held + sold)",
              body=CabinCapacity, response=CabinStock, errors=(400, 404, 409, 413, 415, 422)),
    Operation(operation_id="createHotel", method="POST", path="/v1/admin/hotels",
              handler=views.create_hotel, auth="admin", tag="operators",
              summary="Add a hotel", ok=201, body=NewHotel, response=Hotel,
              errors=(400, 409, 413, 415, 422)),
    Operation(operation_id="setRoomCapacity", method="PATCH",
              path="/v1/admin/hotels/{hotel_id}/room-types/{room_type}/nights",
              handler=views.set_room_capacity, auth="admin", tag="operators",
              summary="Change a room type's capacity over nights", body=NightsCapacity,
              response=RoomStock, errors=(400, 404, 409, 413, 415, 422)),
    Operation(operation_id="listHolds", method="GET", path="/v1/admin/holds",
              handler=views.list_holds, auth="admin", tag="operators", summary="List holds",
              query=HoldListing, response=HoldPage, errors=(400, 422)),
]
