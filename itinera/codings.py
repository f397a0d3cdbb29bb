"""Request bodies in a Content-Encoding: decoded within a size bound, or refused with a code."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable

from itinera.errors import InvalidContentEncoding, PayloadTooLarge, UnsupportedContentEncoding

try:
    import brotli
except ImportError:  # an image without it refuses `br` as it refuses any unknown coding
    brotli = None

# (raw body, most bytes it may decode to) -> the decoded body
Decoder = Callable[[bytes, int], bytes]
GZIP_WBITS = 16 + zlib.MAX_WBITS
# RFC 9110, 8.4.1.2: `deflate` is the zlib format (RFC 1950), not a bare deflate stream.
ZLIB_WBITS = zlib.MAX_WBITS


def _inflater(wbits: int) -> Decoder:
    def inflate(raw: bytes, limit: int) -> bytes:
        out = bytearray()
        rest = raw
        while rest:
            inflater = zlib.decompressobj(wbits)
            try:
                # Never more than one byte past the limit: a 64 KiB bomb must not become 1 GiB.
                out += inflater.decompress(rest, limit + 1 - len(out))
            except zlib.error as exc:
                raise _invalid() from exc
            if len(out) > limit:
                raise _too_large(limit)
            if not inflater.eof:
                raise _invalid()
            # A gzip body may hold several members, one after another (RFC 1952, 2.2).
            rest = inflater.unused_data
            if rest and wbits != GZIP_WBITS:
                raise _invalid()
        return bytes(out)

    return inflate


def _unbrotli(raw: bytes, limit: int) -> bytes:
    decompressor = brotli.Decompressor()
    try:
        # The output limit is approximate (a block past it at most); it still bounds memory.
        out = decompressor.process(raw, output_buffer_limit=limit + 1)
        while len(out) <= limit and not decompressor.can_accept_more_data():
            out += decompressor.process(b"", output_buffer_limit=limit + 1 - len(out))
    except brotli.error as exc:
        raise _invalid() from exc
    if len(out) > limit:
        raise _too_large(limit)
    if not decompressor.is_finished():
        raise _invalid()
    return bytes(out)


DECODERS: dict[str, Decoder] = {"gzip": _inflater(GZIP_WBITS), "x-gzip": _inflater(GZIP_WBITS),
                                "deflate": _inflater(ZLIB_WBITS)}
# Only a brotli that can bound its output (1.2+) is safe to decode with.
if brotli is not None and hasattr(brotli.Decompressor, "can_accept_more_data"):
    DECODERS["br"] = _unbrotli
# x-gzip is gzip's old name: accepted, not advertised.
ACCEPT_ENCODING = ", ".join(c for c in DECODERS if c != "x-gzip")


def decode_body(raw: bytes, content_encoding: Iterable[str], *, limit: int) -> bytes:
    """Return *raw* decoded from the codings its Content-Encoding header lines name."""
    codings = [c.strip().lower() for line in content_encoding for c in line.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return raw
    if len(codings) > 1:
        raise UnsupportedContentEncoding("a body may be in one content coding, not several",
                                         accept_encoding=ACCEPT_ENCODING)
    decoder = DECODERS.get(codings[0])
    if decoder is None:
        raise UnsupportedContentEncoding(
            f"send the body uncompressed or in one of: {ACCEPT_ENCODING}",
            accept_encoding=ACCEPT_ENCODING)
    return decoder(raw, limit) if raw else raw


def _invalid() -> InvalidContentEncoding:
    return InvalidContentEncoding("the body is not valid data in its Content-Encoding")


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"a body is at most {limit} bytes, decompressed")
