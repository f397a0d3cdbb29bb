"""Build the page: assets renamed by content hash, each object with its type and cache header."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parent / "static"
# Referenced by index.html as src="NAME" or href="NAME"; published under assets/ by hash.
HASHED = ("app.css", "app.js")
# A hashed name never changes content, so browsers and CloudFront keep it for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
# The HTML names the current assets: browsers check it again after a minute, and the deploy
# invalidates it in CloudFront, so a release reaches everyone within that minute.
HTML_CACHE = "public, max-age=60"
# This deployment's sign-in settings; read once per page load.
CONFIG_CACHE = "no-cache"
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
                 "js": "text/javascript; charset=utf-8", "json": "application/json"}
CONFIG_KEY = "config.json"


class BuildError(RuntimeError):
    """The page's sources are inconsistent (an asset the HTML does not reference)."""


@dataclass(frozen=True, kw_only=True)
class Asset:
    """One object of the web bucket: key, bytes, and the headers S3 keeps and CloudFront serves."""

    key: str
    body: bytes
    content_type: str
    cache_control: str


def build(source: Path = STATIC) -> list[Asset]:
    """Return the page's objects: hashed assets first, then the HTML that names them."""
    html = (source / "index.html").read_text(encoding="utf-8")
    assets = []
    for name in HASHED:
        body = (source / name).read_bytes()
        stem, ext = name.rsplit(".", 1)
        key = f"assets/{stem}.{hashlib.sha256(body).hexdigest()[:12]}.{ext}"
        html, found = re.subn(rf'(src|href)="{re.escape(name)}"', rf'\1="/{key}"', html)
        if found != 1:
            raise BuildError(f"index.html references {name} {found} times; expected once")
        assets.append(Asset(key=key, body=body, content_type=CONTENT_TYPES[ext],
                            cache_control=IMMUTABLE))
    page = Asset(key="index.html", body=html.encode(), content_type=CONTENT_TYPES["html"],
                 cache_control=HTML_CACHE)
    return [*assets, page]


def sign_in_config(*, cognito_domain: str = "", cognito_client_id: str = "") -> Asset:
    """Return `config.json`: how this deployment signs travellers in (Cognito, or not at all).

    A deployment signs in through Cognito only; the local stack's sign-in by name writes its
    own `config.json` (localaws/cloudfront/signin.py), never this build.
    """
    sign_in: dict[str, Any] = {"kind": "none"}
    if cognito_domain and cognito_client_id:
        sign_in = {"kind": "cognito", "domain": cognito_domain, "client_id": cognito_client_id}
    return config_asset(sign_in)


def config_asset(sign_in: dict[str, Any]) -> Asset:
    """Return `config.json` with these sign-in settings."""
    return Asset(key=CONFIG_KEY, body=json.dumps({"sign_in": sign_in}).encode(),
                 content_type=CONTENT_TYPES["json"], cache_control=CONFIG_CACHE)


def write(assets: list[Asset], out: Path) -> None:
    """Write *assets* under *out* (what `aws s3 sync` would upload)."""
    for asset in assets:
        path = out / asset.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(asset.body)
