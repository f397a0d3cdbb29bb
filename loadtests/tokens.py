"""One token per virtual traveller: minted by the local issuer, or read from a file on AWS."""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path
from typing import Protocol

from itinera.auth import LocalIssuer


class TokenSource(Protocol):
    """Where each new virtual traveller gets its own token."""

    def next(self) -> str:
        """Return a token for a traveller no other virtual traveller of the run uses."""
        ...


class LocalTokens:
    """Mint tokens with the local stack's issuer key, one subject per virtual traveller."""

    def __init__(self, state_dir: Path, *, run_id: str, ttl: int) -> None:
        self.issuer = LocalIssuer(state_dir / "jwt")
        # Minting with a key the gateway does not trust would only measure 401s.
        if not self.issuer.key_path.exists():
            raise FileNotFoundError(f"no issuer key at {self.issuer.key_path}; is the local "
                                    f"stack's --state-dir right?")
        self.prefix = f"load-{run_id}-{os.getpid()}"
        self.ttl = ttl
        # The first mint loads the key (~40 ms): do it now, not while users are measured.
        self.issuer.mint(f"{self.prefix}-0", ttl=60)
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def next(self) -> str:
        """Return a token for `load-<run>-<pid>-<n>`: its own subject, so its own rate budget."""
        with self._lock:
            n = next(self._numbers)
        return self.issuer.mint(f"{self.prefix}-{n}", ttl=self.ttl)


class FileTokens:
    """Hand out pre-issued tokens (e.g. of Cognito test users), one line each, in turn."""

    def __init__(self, path: Path, *, offset: int = 0) -> None:
        self.tokens = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        if not self.tokens:
            raise ValueError(f"{path} holds no token")
        # Each worker task starts at its own offset, so that no two hand out the same token.
        self._numbers = itertools.count(offset)
        self._lock = threading.Lock()

    def next(self) -> str:
        """Return the next token, wrapping around when there are more travellers than lines."""
        with self._lock:
            n = next(self._numbers)
        return self.tokens[n % len(self.tokens)]
