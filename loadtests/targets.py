"""Where a tool runs: AWS, or a local stack standing in for it. The only difference.

Load runs and game days make the same AWS calls on both targets; a target gives the clients
(the default credential chain on AWS; the local stack's endpoint and operator keys), the
stack's public URL, the travellers' tokens (pre-issued on AWS; minted by the local issuer),
and the invariant check (the local stack's database; on AWS it is run where Aurora and
DynamoDB are reachable, see docs/operations.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from itinera.auth import LocalIssuer
from loadtests.invariants import InvariantResult, not_run, settle_and_check
from localaws.record import StackRecord, read_record

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Target(Protocol):
    """What differs between AWS and the local stack for a tool."""

    @property
    def name(self) -> str:
        """Return `local` or `aws`."""
        ...

    @property
    def poll_s(self) -> float:
        """Return how often to poll for a state (FIS, ECS): AWS's pace there, quicker here."""
        ...

    @property
    def time_scale(self) -> float:
        """Return how fast the target's clock runs FIS durations and CloudWatch periods
        (1 on AWS; the local stack's ITINERA_TIME_SCALE)."""
        ...

    def client(self, service: str) -> Any:
        """Return a boto3 client of *service* on this target."""
        ...

    def host(self, given: str | None) -> str:
        """Return the stack's public URL (*given*, checked, or the target's own)."""
        ...

    def stage(self, given: str | None) -> str:
        """Return the stage the tool works on (*given*, or the target's own)."""
        ...

    def tokens(self, count: int, *, run_id: str, ttl_s: int) -> list[str]:
        """Return *count* traveller tokens (cycled when fewer exist)."""
        ...

    def admin_token(self, *, run_id: str) -> str | None:
        """Return an operator token with the admin scope, when the target can give one."""
        ...

    def check(self, *, grace_s: float, settle_s: float) -> InvariantResult:
        """Run the invariant check after a run, or say why it cannot run here."""
        ...


@dataclass(frozen=True)
class LocalTarget:
    """The local stack whose state folder is *state_dir*: its emulator, its issuer."""

    state_dir: Path
    name: str = "local"
    poll_s: float = 0.5

    @property
    def time_scale(self) -> float:
        """Return the scale the stack runs its periods and FIS durations at."""
        return float(self.record.time_scale)

    @cached_property
    def record(self) -> StackRecord:
        """Return the running stack's record (read once: its endpoints and stage stay)."""
        return read_record(self.state_dir)

    def client(self, service: str) -> Any:
        """Return a client on the stack's emulator with the operator's keys."""
        return self.record.client(service)

    def host(self, given: str | None) -> str:
        """Return *given* (loopback only: local load stays on this machine) or the gateway."""
        host = given or self.record.gateway_url
        if urlsplit(host).hostname not in LOOPBACK:
            raise SystemExit(f"a local run goes to 127.0.0.1 only, not {host}; load a "
                             f"deployed stack with --target aws")
        return host

    def stage(self, given: str | None) -> str:
        """Return *given* or the running stack's stage."""
        return given or self.record.stage

    def _issuer(self) -> LocalIssuer:
        issuer = LocalIssuer(self.state_dir / "jwt")
        if not issuer.key_path.exists():
            raise SystemExit(f"no local issuer key under {self.state_dir}; pass the stack's "
                             f"--state-dir (the one `itinera run` used)")
        return issuer

    def tokens(self, count: int, *, run_id: str, ttl_s: int) -> list[str]:
        """Mint one token per traveller, each its own subject (so its own rate budget)."""
        issuer = self._issuer()
        return [issuer.mint(f"load-{run_id}-{n}", ttl=ttl_s) for n in range(count)]

    def admin_token(self, *, run_id: str) -> str | None:
        """Mint an operator token (the flash sale's flight is created with it)."""
        return self._issuer().mint(f"load-{run_id}-operator", admin=True, ttl=600)

    def check(self, *, grace_s: float, settle_s: float) -> InvariantResult:
        """Check the invariants on the local stack's database and tables."""
        return settle_and_check(self.state_dir, grace_s=grace_s, settle_s=settle_s)


@dataclass(frozen=True)
class AwsTarget:
    """The deployed stack: the default credential chain, pre-issued tokens."""

    region: str | None = None
    tokens_file: Path | None = None
    name: str = "aws"
    poll_s: float = 6.0  # boto3's ECS waiters poll every 6 s
    time_scale: float = 1.0

    def client(self, service: str) -> Any:
        """Return a client of *service* in the region (or the profile's)."""
        import boto3

        return boto3.client(service, region_name=self.region) if self.region \
            else boto3.client(service)

    def host(self, given: str | None) -> str:
        """Return *given*, which must be the stack's HTTPS URL (or, for the tasks of a local
        stack standing in for AWS, its plain-HTTP gateway on this machine)."""
        parts = urlsplit(given or "")
        if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
            return str(given)
        raise SystemExit("--target aws needs --host https://<the stack's WebUrl>")

    def stage(self, given: str | None) -> str:
        """Return *given*, else `dev` (the templates' default stage)."""
        return given or "dev"

    def tokens(self, count: int, *, run_id: str, ttl_s: int) -> list[str]:
        """Return the pre-issued tokens of --tokens-file (Cognito test users')."""
        if self.tokens_file is None:
            raise SystemExit("--target aws needs --tokens-file (pre-issued traveller tokens)")
        tokens = [t for t in self.tokens_file.read_text().split() if t]
        if not tokens:
            raise SystemExit(f"{self.tokens_file} holds no token")
        return tokens

    def admin_token(self, *, run_id: str) -> str | None:
        """None: an operator creates the flash sale's flight on AWS (loadtests/README.md)."""
        return None

    def check(self, *, grace_s: float, settle_s: float) -> InvariantResult:
        """Not from here: Aurora and DynamoDB are in the stack's private subnets."""
        return not_run("the stack is on AWS: run `itinera check` where Aurora and DynamoDB "
                       "are reachable (docs/operations.md)")


def target_of(name: str, *, state_dir: Path, region: str | None = None,
              tokens_file: Path | None = None) -> Target:
    """Return the target `--target NAME` chooses."""
    if name == "aws":
        return AwsTarget(region=region, tokens_file=tokens_file)
    return LocalTarget(state_dir)
