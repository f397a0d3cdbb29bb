"""The shared body reader: decoded, bounded, and a body that breaks mid-read is the client's."""

from __future__ import annotations

import gzip
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.test_utils import make_mocked_request

from itinera.errors import BadRequest, PayloadTooLarge
from itinera.web import MAX_BODY_BYTES, read_body


def post(body: bytes, *headers: tuple[str, str], broken: bool = False) -> web.Request:
    """Return a POST whose payload holds *body*, then ends or breaks."""
    payload = StreamReader(mock.Mock(_reading_paused=False), 2**16, loop=mock.Mock())
    payload.feed_data(body)
    if broken:
        payload.set_exception(web.RequestPayloadError("Invalid character in chunk size"))
    else:
        payload.feed_eof()
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    return make_mocked_request("POST", "/v1/holds", headers=dict(headers), payload=payload,
                               app=app, client_max_size=MAX_BODY_BYTES)


async def test_a_gzip_body_is_read_decoded() -> None:
    """The reader hands the handler the JSON, not the gzip bytes it arrived as."""
    request = post(gzip.compress(b'{"a": 1}'), ("Content-Encoding", "gzip"))
    assert await read_body(request) == b'{"a": 1}'


async def test_a_body_that_breaks_while_read_is_a_400() -> None:
    """A bad chunk after the handler began reading is `bad_request`, not an unhandled 500."""
    with pytest.raises(BadRequest) as refused:
        await read_body(post(b"{", broken=True))
    assert "chunk" not in refused.value.detail


async def test_a_body_past_the_limit_as_sent_is_a_413() -> None:
    """The limit holds for the bytes sent as well as for what they decode to."""
    with pytest.raises(PayloadTooLarge):
        await read_body(post(b" " * (MAX_BODY_BYTES + 1)))
