"""JSON logs, one object a line, carrying the current request id."""

from __future__ import annotations

import contextvars
import logging
import os
import sys
import threading
import time
from typing import Any

import orjson

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
# The X-Ray trace header of the request being served (see itinera/tracing.py).
trace_header_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "trace_header", default=None
)

# Keys a caller may pass in `extra=` that end up as top-level JSON fields.
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object with service, level, message and request id."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        # Which availability zone this process serves in (a simulated one on the local stack).
        self.az = os.environ.get("AVAILABILITY_ZONE")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self.service,
            **({"az": self.az} if self.az else {}),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        trace_header = trace_header_var.get()
        if trace_header:
            entry["trace_id"] = trace_header.split(";", 1)[0].removeprefix("Root=")
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class BufferedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Write log lines in batches: at most FLUSH_SECONDS late, warnings and errors at once.

    A write per line cost the services about a tenth of their CPU under load (one system
    call per request); batching keeps the lines and their order, and loses at most the last
    fraction of a second if the process is killed outright.
    """

    FLUSH_SECONDS = 0.25
    MAX_LINES = 256

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.pending: list[str] = []
        self.last_flush = time.monotonic()
        self._timer = threading.Thread(target=self._tick, name="log-flush", daemon=True)
        self._timer.start()

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the formatted record; flush when due."""
        try:
            line = self.format(record)
        except Exception:  # logging must never raise into the caller
            self.handleError(record)
            return
        self.pending.append(line)
        if (record.levelno >= logging.WARNING or len(self.pending) >= self.MAX_LINES
                or time.monotonic() - self.last_flush >= self.FLUSH_SECONDS):
            self.flush()

    def flush(self) -> None:
        """Write every queued line, then flush the stream."""
        self.acquire()
        try:
            if self.pending:
                lines, self.pending = self.pending, []
                self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()
            self.last_flush = time.monotonic()
        finally:
            self.release()

    def _tick(self) -> None:
        # Lines logged just before a quiet spell still appear within FLUSH_SECONDS.
        while True:
            time.sleep(self.FLUSH_SECONDS)
            if self.pending:
                self.flush()


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log record to stderr as JSON tagged with *service*, in batches."""
    handler = BufferedStreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log duplicates our own request log line.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    logging.getLogger("aiobotocore").setLevel(logging.WARNING)
