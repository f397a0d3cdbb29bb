"""Byte-level requests for the edge fuzz: hand-made malformed ones and mutations of real ones."""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import time
import zlib
from dataclasses import dataclass

# Bytes that parsers treat specially: NUL, CR, LF, space, tab, colon, DEL, non-ASCII.
INTERESTING = b"\x00\r\n \t:\x7f\x80\xff\xc3\xa9;,\"%"
# Long enough for a request timeout (10 s), the close after it (2 s) and a slow machine.
DEADLINE_SECONDS = 25.0


@dataclass(frozen=True)
class Case:
    """One connection's worth of bytes, and how fast to send them (a byte per *drip* s)."""

    name: str
    data: bytes
    drip: float = 0.0


@dataclass(frozen=True)
class Answer:
    """The first final answer on a connection (empty status line: nothing came back)."""

    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


def request(method: bytes, target: bytes, headers: list[bytes], body: bytes = b"",
            *, version: bytes = b"HTTP/1.1") -> bytes:
    """Return a request's bytes: the line, the header lines as given, and the body."""
    head = b"".join(h + b"\r\n" for h in [b"Host: 127.0.0.1", *headers])
    return method + b" " + target + b" " + version + b"\r\n" + head + b"\r\n" + body


def handmade(*, token: str, hold: bytes) -> list[Case]:
    """Return the malformed requests an attacker tries first, against /v1/*."""
    auth = b"Authorization: Bearer " + token.encode()
    json_type = b"Content-Type: application/json"

    def post(headers: list[bytes], body: bytes = hold, path: bytes = b"/v1/holds") -> bytes:
        return request(b"POST", path, [auth, json_type, *headers], body)

    def sized(headers: list[bytes], body: bytes = hold) -> bytes:
        return post([b"Content-Length: %d" % len(body), *headers], body)

    cases = [
        Case("authorization-xff", request(b"GET", b"/v1/bookings",
                                          [b"Authorization: Bearer \xff"])),
        Case("authorization-utf8", request(b"GET", b"/v1/bookings",
                                           [b"Authorization: Bearer \xc3\xa9t\xc3\xa9"])),
        Case("header-name-xff", request(b"GET", b"/v1/flights", [b"X-\xff: 1"])),
        Case("header-value-latin1", request(b"GET", b"/v1/flights", [b"X-Name: caf\xe9"])),
    ]
    packed = {"gzip": gzip.compress(hold), "deflate": zlib.compress(hold)}
    for coding in (b"gzip", b"deflate", b"br", b"zstd", b"compress", b"identity", b"x-garbage",
                   b"gzip, gzip", b"GZIP", b"gzip;q=1", b"", b"\xff"):
        body = packed.get(coding.decode("latin-1"), hold)
        cases.append(Case(f"content-encoding-{coding!r}", sized([b"Content-Encoding: " + coding],
                                                                body)))
    cases += [
        Case("gzip-not-gzip", sized([b"Content-Encoding: gzip"], hold)),
        Case("gzip-bomb", sized([b"Content-Encoding: gzip"], gzip.compress(b"0" * 20_000_000))),
        Case("content-type-twice", sized([b"Content-Type: text/plain"])),
        Case("content-length-twice-same", sized([b"Content-Length: %d" % len(hold)])),
        Case("content-length-twice-different", sized([b"Content-Length: 1"])),
    ]
    for value in (b"18446744073709551616", b"18446744073709551615", b"9223372036854775808",
                  b"-1", b"abc", b"+5", b"0x10", b" 5 ", b"5 5", b"1e3", b"\xff"):
        cases.append(Case(f"content-length-{value!r}",
                          post([b"Content-Length: " + value], hold)))
    for name, line in (("nul-in-value", b"X-A: a\x00b"), ("nul-in-name", b"X-\x00A: b"),
                       ("cr-in-value", b"X-A: a\rb"), ("space-before-colon", b"X-A : b"),
                       ("no-colon", b"X-A b"), ("empty-name", b": b"),
                       ("obs-fold", b"X-A: b\r\n c"), ("header-injection", b"X-A: b\r\nX-B"),
                       ("long-name", b"X" * 10_000 + b": 1"), ("tab-separated", b"X-A:\tb")):
        cases.append(Case(f"header-{name}", request(b"GET", b"/v1/flights", [line])))
    cases += [
        Case("bare-lf", b"GET /v1/flights HTTP/1.1\nHost: 127.0.0.1\n\n"),
        Case("leading-crlf", b"\r\n\r\n" + request(b"GET", b"/v1/flights", [])),
        Case("only-crlf", b"\r\n\r\n"),
        Case("query-100k", request(b"GET", b"/v1/flights?q=" + b"a" * 100_000, [])),
        Case("header-100k", request(b"GET", b"/v1/flights", [b"X-Big: " + b"a" * 100_000])),
        Case("header-300k", request(b"GET", b"/v1/flights", [b"X-Big: " + b"a" * 300_000])),
        Case("headers-300", request(b"GET", b"/v1/flights",
                                    [b"X-H%d: 1" % i for i in range(300)])),
        Case("path-9k", request(b"GET", b"/v1/" + b"a" * 9000, [])),
        Case("path-space", request(b"GET", b"/v1/fli ghts", [])),
        Case("path-nonascii", request(b"GET", b"/v1/\xc3\xa9\xff", [])),
        Case("path-nul", request(b"GET", b"/v1/%00/../../etc/passwd", [])),
        Case("absolute-form", request(b"GET", b"http://evil.example/v1/flights", [])),
        Case("asterisk-form", request(b"OPTIONS", b"*", [])),
        Case("expect-continue", sized([b"Expect: 100-continue"])),
        Case("expect-garbage", sized([b"Expect: 999-nope"])),
        Case("upgrade-websocket", request(b"GET", b"/v1/flights", [
            b"Connection: Upgrade", b"Upgrade: websocket"])),
        Case("upgrade-h2c", request(b"GET", b"/v1/flights", [
            b"Connection: Upgrade, HTTP2-Settings", b"Upgrade: h2c",
            b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"])),
        Case("h2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        Case("head", request(b"HEAD", b"/v1/flights", [])),
    ]
    for method in (b"FOO", b"PROPFIND", b"get", b"TRACE", b"CONNECT", b"G ET", b"GET\x00",
                   b"M" * 100, b"DELETE"):
        cases.append(Case(f"method-{method[:12]!r}", request(method, b"/v1/flights", [])))
    for version in (b"HTTP/1.0", b"HTTP/2.0", b"HTTP/9.9", b"HTTP/1.x", b"http/1.1", b""):
        cases.append(Case(f"version-{version!r}",
                          request(b"GET", b"/v1/flights", [], version=version)))
    chunked = b"Transfer-Encoding: chunked"
    for name, body in (("bad-size", b"zz\r\n{}\r\n0\r\n\r\n"),
                       ("huge-size", b"ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n"),
                       ("negative-size", b"-1\r\n{}\r\n0\r\n\r\n"),
                       ("size-with-space", b"1 1\r\n{}\r\n0\r\n\r\n"),
                       ("extension-nul", b"2;\x00\r\n{}\r\n0\r\n\r\n"),
                       ("no-crlf-after-data", b"2\r\n{}XX0\r\n\r\n"),
                       ("bad-trailer", b"2\r\n{}\r\n0\r\nX\x00: y\r\n\r\n"),
                       ("short", b"ff\r\n{}")):
        cases.append(Case(f"chunk-{name}", post([chunked], body)))
    for coding in (b"chunked, identity", b"gzip, chunked", b"chunked, chunked", b"xchunked",
                   b"gzip"):
        cases.append(Case(f"transfer-encoding-{coding!r}", post(
            [b"Transfer-Encoding: " + coding], b"2\r\n{}\r\n0\r\n\r\n")))
    cases.append(Case("transfer-encoding-and-length", post(
        [chunked, b"Content-Length: 3"], b"2\r\n{}\r\n0\r\n\r\n")))
    return cases


def drips() -> list[Case]:
    """Return slow clients: headers or a body a byte every 0.5 s, or stalled; and a client
    that sends nothing at all (closed quietly: no request, no answer)."""
    return [
        Case("drip-headers", request(b"GET", b"/v1/flights", [b"X-Slow: " + b"s" * 60]),
             drip=0.5),
        Case("drip-body", request(b"POST", b"/v1/holds", [b"Content-Type: application/json",
                                                         b"Content-Length: 40"], b"{" * 40),
             drip=0.5),
        Case("stall-body", request(b"POST", b"/v1/holds", [b"Content-Length: 100"], b"{")),
        Case("stall-headers", b"GET /v1/flights HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
        Case("nothing", b""),
    ]


def mutations(rng: random.Random, name: str, base: bytes, count: int) -> list[Case]:
    """Return *count* copies of *base*, each changed by one to three random edits."""
    out: list[Case] = []
    while len(out) < count:
        mutated = _mutate(rng, base)
        if mutated:  # a connection that sends nothing is its own case (see drips())
            out.append(Case(f"{name}-mutation-{len(out)}", mutated))
    return out


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        edit = rng.randrange(8)
        at = rng.randrange(len(out) + 1)
        if edit == 0 and out:  # one byte becomes an interesting one
            out[min(at, len(out) - 1)] = rng.choice(INTERESTING)
        elif edit == 1:  # a few interesting or random bytes appear
            out[at:at] = bytes(rng.choice(INTERESTING) if rng.random() < 0.5
                               else rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif edit == 2:  # a span disappears
            del out[at:at + rng.randint(1, 32)]
        elif edit == 3:  # a header line is repeated
            lines = bytes(out).split(b"\r\n")
            if len(lines) > 2:
                i = rng.randrange(1, len(lines) - 1)
                lines.insert(i, lines[i])
                out = bytearray(b"\r\n".join(lines))
        elif edit == 4:  # the request ends early
            del out[at:]
        elif edit == 5:  # Content-Length says something else
            out = bytearray(_replace_header(bytes(out), b"Content-Length", str(rng.choice(
                [0, 1, rng.randrange(10_000), 2**64, 2**70, -5])).encode()))
        elif edit == 6:  # a header gets random bytes
            out = bytearray(_replace_header(bytes(out), rng.choice(
                [b"Content-Type", b"Authorization", b"Idempotency-Key", b"Content-Encoding",
                 b"X-Request-Id", b"X-Forwarded-For"]),
                bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
                .replace(b"\r", b"").replace(b"\n", b"")))
        else:  # another method
            rest = bytes(out).split(b" ", 1)[-1]
            out = bytearray(rng.choice([b"PUT", b"PATCH", b"DELETE", b"OPTIONS", b"HEAD",
                                        b"GETT", b"\xffPOST"]) + b" " + rest)
    return bytes(out)


def _replace_header(data: bytes, name: bytes, value: bytes) -> bytes:
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n")
             if not line.lower().startswith(name.lower() + b":")]
    return b"\r\n".join([*lines, name + b": " + value]) + sep + body


async def send(port: int, case: Case) -> Answer:
    """Send *case* on a new connection and read the first final answer, within the deadline."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        async with asyncio.timeout(DEADLINE_SECONDS):
            answer = asyncio.create_task(_read_answer(reader, head=case.data.startswith(b"HEAD")))
            try:
                step = 1 if case.drip else len(case.data) or 1
                for i in range(0, len(case.data), step):
                    if answer.done():
                        break  # answered (and probably closed): stop sending
                    writer.write(case.data[i:i + step])
                    await writer.drain()
                    await asyncio.sleep(case.drip)  # simulates: a slow client
            except ConnectionError:
                pass  # the server closed while we sent: its answer, if any, is still readable
            status, headers, body = await answer
    finally:
        writer.close()
    return Answer(status, headers, body, time.monotonic() - started)


async def _read_answer(reader: asyncio.StreamReader, *, head: bool
                       ) -> tuple[int, dict[str, str], bytes]:
    while True:
        try:
            block = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise AssertionError(f"a partial answer: {exc.partial[:200]!r}") from exc
            return 0, {}, b""  # closed without a byte
        except ConnectionError:
            return 0, {}, b""
        lines = block.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in lines[1:] if line)}
        if status >= 200:
            break
    if head or status in (204, 304):
        return status, headers, b""
    if "content-length" in headers:
        return status, headers, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while size := int((await reader.readline()).split(b";")[0], 16):
            body += await reader.readexactly(size)
            await reader.readline()
        return status, headers, body
    return status, headers, await reader.read()


def problem_of(answer: Answer) -> dict[str, object] | None:
    """Return the answer's problem document, or None if it is not one."""
    if answer.headers.get("content-type", "").split(";")[0] != "application/problem+json":
        return None
    try:
        problem = json.loads(answer.body)
    except ValueError:
        return None
    return problem if isinstance(problem, dict) else None
