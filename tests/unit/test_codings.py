"""Compressed request bodies decode within the body limit, or are refused with a stable code."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

import pytest

from itinera import codings
from itinera.codings import ACCEPT_ENCODING, decode_body
from itinera.errors import InvalidContentEncoding, PayloadTooLarge, UnsupportedContentEncoding

BODY = b'{"items": [{"kind": "flight", "flight_id": 1, "cabin": "economy", "quantity": 2}]}'
LIMIT = 64 * 1024


def test_an_uncompressed_body_is_returned_as_it_is() -> None:
    """No Content-Encoding, an empty one or `identity` leaves the bytes alone."""
    for header in ((), ("",), ("identity",), ("Identity, ",)):
        assert decode_body(BODY, header, limit=LIMIT) == BODY


@pytest.mark.parametrize("header, packed", [
    ("gzip", gzip.compress(BODY)),
    ("x-gzip", gzip.compress(BODY)),
    ("GZip", gzip.compress(BODY)),
    ("deflate", zlib.compress(BODY)),
    ("identity, gzip", gzip.compress(BODY)),
], ids=["gzip", "x-gzip", "case", "deflate", "identity-then-gzip"])
def test_gzip_and_deflate_bodies_are_decoded(header: str, packed: bytes) -> None:
    """gzip (and its old name x-gzip) and deflate (the zlib format) decode to the JSON sent."""
    assert decode_body(packed, (header,), limit=LIMIT) == BODY


def test_a_gzip_body_of_several_members_is_decoded_whole() -> None:
    """Members one after another are one gzip body (RFC 1952, 2.2)."""
    packed = gzip.compress(BODY[:10]) + gzip.compress(BODY[10:])
    assert decode_body(packed, ("gzip",), limit=LIMIT) == BODY


@pytest.mark.parametrize("header, packed", [
    ("gzip", b"{}"),
    ("gzip", gzip.compress(BODY)[:-6]),
    ("gzip", gzip.compress(BODY) + b"trailing"),
    ("deflate", zlib.compress(BODY)[:-2]),
    ("deflate", zlib.compress(BODY) + b"x"),
    ("deflate", zlib.compress(BODY)[2:]),
], ids=["not-gzip", "truncated-gzip", "gzip-trailing-bytes", "truncated-deflate",
        "deflate-trailing-bytes", "raw-deflate"])
def test_bodies_that_do_not_decode_are_a_400(header: str, packed: bytes) -> None:
    """Garbage, a cut stream or bytes after its end are `invalid_content_encoding`."""
    with pytest.raises(InvalidContentEncoding) as refused:
        decode_body(packed, (header,), limit=LIMIT)
    assert (refused.value.status, refused.value.code) == (400, "invalid_content_encoding")


@pytest.mark.parametrize("header, pack", [
    ("gzip", gzip.compress), ("deflate", zlib.compress)])
def test_a_zip_bomb_is_a_413_without_inflating_it(header: str,
                                                   pack: Callable[[bytes], bytes]) -> None:
    """10 MB of zeros in about 10 KB: refused once the output passes the limit, not after."""
    bomb = pack(b"\0" * 10_000_000)
    assert len(bomb) < LIMIT
    with pytest.raises(PayloadTooLarge) as refused:
        decode_body(bomb, (header,), limit=LIMIT)
    assert refused.value.status == 413 and "decompressed" in refused.value.detail


def test_exactly_the_limit_decoded_is_accepted() -> None:
    """The bound is inclusive: a body that decodes to the limit itself passes."""
    assert len(decode_body(gzip.compress(b"a" * LIMIT), ("gzip",), limit=LIMIT)) == LIMIT
    with pytest.raises(PayloadTooLarge):
        decode_body(gzip.compress(b"a" * (LIMIT + 1)), ("gzip",), limit=LIMIT)


@pytest.mark.parametrize("headers", [
    ("zstd",), ("compress",), ("whatever",), ("gzip, gzip",), ("gzip", "deflate"),
    ("deflate, gzip",),
], ids=["zstd", "compress", "unknown", "stacked", "two-lines", "stacked-mixed"])
def test_codings_we_do_not_decode_are_a_415_listing_those_we_do(
        headers: tuple[str, ...]) -> None:
    """zstd, unknown codings and stacked ones are `unsupported_content_encoding` with
    Accept-Encoding (RFC 9110, 15.5.16); the detail does not quote the header."""
    with pytest.raises(UnsupportedContentEncoding) as refused:
        decode_body(gzip.compress(BODY), headers, limit=LIMIT)
    err = refused.value
    assert (err.status, err.code) == (415, "unsupported_content_encoding")
    assert err.headers()["Accept-Encoding"] == ACCEPT_ENCODING
    assert "gzip" in ACCEPT_ENCODING and "deflate" in ACCEPT_ENCODING
    assert "zstd" not in err.detail and "whatever" not in err.detail


def test_br_is_decoded_when_brotli_can_bound_its_output() -> None:
    """With brotli 1.2+ importable, br is accepted, advertised and bounded like the others."""
    brotli = pytest.importorskip("brotli")
    if "br" not in codings.DECODERS:
        pytest.skip("this brotli cannot bound its output")
    assert "br" in ACCEPT_ENCODING
    assert decode_body(brotli.compress(BODY), ("br",), limit=LIMIT) == BODY
    with pytest.raises(PayloadTooLarge):
        decode_body(brotli.compress(b"\0" * 10_000_000), ("br",), limit=LIMIT)
    with pytest.raises(InvalidContentEncoding):
        decode_body(b"not brotli at all", ("br",), limit=LIMIT)


def test_without_brotli_br_is_unsupported(monkeypatch: pytest.MonkeyPatch) -> None:
    """An image without brotli answers br like any coding it does not know: 415."""
    monkeypatch.delitem(codings.DECODERS, "br", raising=False)
    with pytest.raises(UnsupportedContentEncoding):
        decode_body(b"\x0b\x02\x80{}\x03", ("br",), limit=LIMIT)
