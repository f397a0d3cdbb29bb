"""`itinera web build` and `itinera web publish`: the booking page, as the deploy uploads it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _build(args: argparse.Namespace) -> int:
    from gateway.web import build, write

    assets = build()
    write(assets, args.out)
    for asset in assets:
        print(f"{asset.key}  {len(asset.body)} bytes  Cache-Control: {asset.cache_control}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    import boto3

    from gateway.web import build, invalidate, sign_in_config, upload

    assets = [*build(), sign_in_config(cognito_domain=args.cognito_domain,
                                       cognito_client_id=args.cognito_client_id)]
    upload(boto3.client("s3"), args.bucket, assets)
    print(f"uploaded {len(assets)} objects to s3://{args.bucket}/")
    if args.distribution:
        ident = invalidate(boto3.client("cloudfront"), args.distribution)
        print(f"invalidation {ident} of the HTML in distribution {args.distribution}")
    return 0


def register(sub: Any) -> None:
    """Add `web build` and `web publish` to the command line."""
    web = sub.add_parser("web", help="the travellers' booking page")
    commands = web.add_subparsers(dest="web_command", required=True)
    build = commands.add_parser("build", help="write the page with hashed asset names")
    build.add_argument("--out", type=Path, default=Path("build/web"))
    build.set_defaults(func=_build)

    publish = commands.add_parser(
        "publish", help="upload the page to the web bucket (AWS credentials from the "
                        "environment) and invalidate the HTML in CloudFront")
    publish.add_argument("--bucket", required=True, help="the stack's WebBucketName output")
    publish.add_argument("--distribution", default="",
                         help="the stack's DistributionId output")
    publish.add_argument("--cognito-domain", default="",
                         help="the user pool's hosted UI domain (sign-in through Cognito)")
    publish.add_argument("--cognito-client-id", default="",
                         help="the user pool's app client id for the page")
    publish.set_defaults(func=_publish)
