"""`itinera bench`: the hot paths through the whole local stack, next to their references."""

from __future__ import annotations

import argparse
from typing import Any


def _bench(args: argparse.Namespace) -> int:
    from loadtests.bench.run import Options, run

    return run(Options(rounds=args.rounds, seconds=args.seconds,
                       checkout_rate=args.checkout_rate, checkout_seconds=args.checkout_seconds,
                       checkout=not args.no_checkout, port_base=args.port_base))


def register(sub: Any) -> None:
    """Add `bench` to the command line."""
    bench = sub.add_parser("bench", help="search, holds and checkout vs their references")
    bench.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    bench.add_argument("--seconds", type=float, default=8.0, help="per measurement")
    bench.add_argument("--checkout-rate", type=float, default=50.0, help="bookings a second")
    bench.add_argument("--checkout-seconds", type=int, default=60)
    bench.add_argument("--no-checkout", action="store_true", help="skip the checkout run")
    bench.add_argument("--port-base", type=int, default=27080,
                       help="the private stack's ports (it must not collide with make run)")
    bench.set_defaults(func=_bench)
