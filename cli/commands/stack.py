"""`itinera run` and `itinera token`: the local stack and its token issuer."""

from __future__ import annotations

import argparse
from typing import Any

from itinera.auth import LocalIssuer


def _run(args: argparse.Namespace) -> int:
    from localaws.config import StackConfig
    from localaws.stack import run_forever

    config = StackConfig(port_base=args.port_base, state_dir=args.state_dir, stage=args.stage,
                         database=args.database, redis_db=args.redis_db,
                         seed_size=args.seed_size, enforce_iam=args.enforce_iam,
                         fault_proxies=args.fault_proxies)
    return run_forever(config)


def _token(args: argparse.Namespace) -> int:
    print(LocalIssuer(args.state_dir / "jwt").mint(args.sub, admin=args.admin, ttl=args.ttl))
    return 0


def register(sub: Any) -> None:
    """Add `run` and `token` to the command line."""
    run = sub.add_parser("run", help="run the whole local stack with demo data")
    run.add_argument("--port-base", type=int, default=8080,
                     help="gateway port; inventory +1, checkout API +2, notifier +3, web page "
                          "(local CloudFront) +5, AWS +10")
    run.add_argument("--stage", default="dev")
    run.add_argument("--database", default="itinera")
    run.add_argument("--redis-db", type=int, default=0)
    run.add_argument("--seed-size", default="small", choices=["small", "large"])
    run.add_argument("--enforce-iam", action="store_true",
                     help="each process calls the AWS emulator with its own role from the "
                          "template; moto refuses what the role does not grant")
    # On by default: game days need them, and they cost about a millisecond on requests
    # that reach MariaDB (docs/gameday.md); the bench starts its stacks without them.
    run.add_argument("--fault-proxies", action=argparse.BooleanOptionalAction, default=True,
                     help="each AZ's tasks reach MariaDB, Redis and moto through that AZ's "
                          "fault proxy, for game days; control API on the port base +80")
    run.set_defaults(func=_run)

    token = sub.add_parser("token", help="print a traveller token from the local issuer")
    token.add_argument("--sub", required=True, help="the traveller (token subject)")
    token.add_argument("--admin", action="store_true", help="add the admin scope")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    token.set_defaults(func=_token)
