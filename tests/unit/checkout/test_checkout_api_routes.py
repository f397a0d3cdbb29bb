"""The checkout API's routes: one per operation, and problem+json for whatever is not one."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from checkout.api import ROUTES
from checkout.runtime import shutdown
from itinera.errors import DependencyUnavailable, ItineraError, LimitExceeded, NotFound
from localaws.template import load_sam
from tests.unit.checkout.api_calls import (
    BOOKING_ID,
    CALLER,
    RecordingService,
    call,
    rest_event,
)

BOOKING = "/v1/bookings/{booking_id}"


def test_the_routes_are_the_templates_api_events() -> None:
    """The table routes exactly the methods and paths the SAM template sends the function."""
    events = load_sam()["Resources"]["CheckoutApiFunction"]["Properties"]["Events"]
    declared = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events.values()}
    assert {(r.method, r.path) for r in ROUTES} == declared


def test_an_unknown_path_is_a_404_problem(service: RecordingService) -> None:
    """A path no route has answers 404 `not_found` as problem+json, naming the request."""
    status, headers, body = call(rest_event("GET", "/v1/nothing", resource="/{proxy+}"))
    assert status == 404 and headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "not_found" and body["detail"] == "no route GET /v1/nothing"
    assert body["instance"] == "/v1/nothing" and headers["X-Request-Id"] == "req-0001"
    assert not service.calls


def test_another_method_of_a_known_path_is_a_405_naming_the_allowed_ones(
        service: RecordingService) -> None:
    """A method a known path does not serve answers 405 `method_not_allowed` with Allow."""
    for method, path, allowed in (("DELETE", f"/v1/bookings/{BOOKING_ID}", ["GET"]),
                                  ("PUT", "/v1/bookings", ["POST", "GET"]),
                                  ("GET", f"/v1/bookings/{BOOKING_ID}/cancel", ["POST"])):
        status, headers, body = call(rest_event(method, path))
        assert (status, body["code"]) == (405, "method_not_allowed"), (method, path)
        assert headers["Content-Type"] == "application/problem+json"
        assert headers["Allow"].split(", ") == allowed
    assert not service.calls


def test_a_trailing_slash_reaches_the_same_operation(service: RecordingService) -> None:
    """`/v1/bookings/{id}/` is `/v1/bookings/{id}`, as a REST API's resources are."""
    status, _, body = call(rest_event("GET", f"/v1/bookings/{BOOKING_ID}/", resource=BOOKING))
    assert (status, body["booking_id"]) == (200, BOOKING_ID)
    assert service.calls == [("get_booking", CALLER, BOOKING_ID)]


def test_a_path_parameter_is_one_segment(service: RecordingService) -> None:
    """The parameter is handed over as sent; it never spans a `/`, so more segments are 404."""
    status, _, body = call(rest_event("POST", "/v1/bookings/some-id/cancel",
                                      resource=f"{BOOKING}/cancel"))
    assert (status, body["status"]) == (202, "cancelling")
    assert service.calls == [("cancel_booking", CALLER, "some-id")]
    status, _, body = call(rest_event("GET", "/v1/bookings/a/b"))
    assert (status, body["code"]) == (404, "not_found") and len(service.calls) == 1


@pytest.mark.parametrize(("error", "code", "retry_after"), [
    (LimitExceeded.of("booking_limit", "booking-attempts", "too many", retry_after=42),
     "booking_limit", "42"),
    (DependencyUnavailable("the inventory does not answer"), "dependency_unavailable", "1"),
])
def test_a_domain_error_is_its_problem_with_retry_after(
        service: RecordingService, error: ItineraError, code: str, retry_after: str) -> None:
    """An error of the one hierarchy answers its status and code, and when to come back."""
    service.fail = error
    status, headers, body = call(rest_event("GET", f"/v1/bookings/{BOOKING_ID}",
                                            resource=BOOKING))
    assert (status, body["code"], headers["Retry-After"]) == (
        error.status, code, retry_after)
    assert headers["Content-Type"] == "application/problem+json"
    assert body["instance"] == f"/v1/bookings/{BOOKING_ID}"


def test_an_unexpected_error_is_a_500_problem_that_quotes_nothing(
        service: RecordingService, caplog: pytest.LogCaptureFixture) -> None:
    """A bug answers 500 `internal_error` without its text, and is logged with its route."""
    service.fail = RuntimeError("secret detail")
    status, headers, body = call(rest_event("GET", f"/v1/bookings/{BOOKING_ID}",
                                            resource=BOOKING))
    assert (status, body["code"]) == (500, "internal_error")
    assert "secret" not in str(body) and headers["X-Request-Id"] == "req-0001"
    (logged,) = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert logged.__dict__["route"] == f"GET {BOOKING}" and logged.exc_info


def test_environments_running_at_once_answer_their_own_requests(
        service: RecordingService) -> None:
    """The local stack runs execution environments as threads of one process: an invocation
    that fails after the others have started still answers about its own request."""
    service.pause, service.fail = 0.002, NotFound("no such booking")
    ids = [f"{n:032x}" for n in range(8)]
    start = threading.Barrier(len(ids))
    answers: dict[str, list[Any]] = {}

    def environment(booking_id: str) -> None:
        start.wait()
        try:
            answers[booking_id] = [call(rest_event(
                "GET", f"/v1/bookings/{booking_id}", resource=BOOKING,
                headers={"X-Request-Id": [f"req-{booking_id}"]})) for _ in range(5)]
        finally:
            shutdown()

    threads = [threading.Thread(target=environment, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for booking_id in ids:
        assert [(s, h["X-Request-Id"], b["instance"]) for s, h, b in answers[booking_id]] == \
            [(404, f"req-{booking_id}", f"/v1/bookings/{booking_id}")] * 5
