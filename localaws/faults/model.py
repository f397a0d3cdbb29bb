"""What a fault proxy does to its traffic: pass, cut, delay or drop, for a while or until told."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

MODES = ("pass", "cut", "delay", "drop")
# Linux's minimum retransmission timeout: a lost segment costs at least this before TCP resends.
MIN_RTO_S = 0.2
# Linux's initial SYN retransmission timeout: a lost SYN delays connect by this much.
SYN_RTO_S = 1.0


class FaultError(ValueError):
    """A fault specification that cannot be applied."""


@dataclass(frozen=True, kw_only=True)
class Fault:
    """One fault: the mode and its figures, with an optional duration after which it lifts."""

    mode: str = "pass"
    duration_s: float | None = None
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    # drop: each chunk is "lost" with this probability and costs a retransmission stall
    probability: float = 0.0
    # drop: each chunk closes its connection with this probability (a peer giving up)
    close_probability: float = 0.0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """Build and validate a fault from the control API's JSON."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise FaultError(f"unknown fields: {', '.join(sorted(unknown))}")
        try:
            fault = cls(**data)
        except TypeError as exc:
            raise FaultError(str(exc)) from exc
        fault.check()
        return fault

    def check(self) -> None:
        """Raise FaultError when the figures do not fit the mode."""
        if self.mode not in MODES:
            raise FaultError(f"mode must be one of {', '.join(MODES)}")
        if self.duration_s is not None and self.duration_s <= 0:
            raise FaultError("duration_s must be positive")
        if self.delay_ms < 0 or self.jitter_ms < 0 or self.jitter_ms > self.delay_ms:
            raise FaultError("delay_ms >= jitter_ms >= 0 is required")
        for name in ("probability", "close_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise FaultError(f"{name} must be within 0..1")
        if self.mode == "delay" and self.delay_ms <= 0:
            raise FaultError("delay needs delay_ms > 0")
        if self.mode == "drop" and self.probability == 0 and self.close_probability == 0:
            raise FaultError("drop needs probability or close_probability > 0")

    def as_json(self) -> dict[str, Any]:
        """Return the fault as the control API reports it."""
        return asdict(self)


PASS = Fault()
