"""The page's build: assets named by content hash, cache headers by kind, the HTML last."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.web import HTML_CACHE, IMMUTABLE, BuildError, build, sign_in_config, upload
from gateway.web.build import STATIC
from localaws.cloudfront import distribution
from localaws.cloudfront.signin import local_sign_in_config
from localaws.template import Template, load_sam, transform


def test_assets_are_named_by_content_hash_and_the_html_names_them() -> None:
    """Each asset's key carries its content's hash, and index.html references exactly those."""
    assets = {a.key: a for a in build()}
    html = assets["index.html"].body.decode()
    hashed = [k for k in assets if k != "index.html"]
    assert sorted(re.sub(r"\.[0-9a-f]{12}\.", ".", k) for k in hashed) == \
        ["assets/app.css", "assets/app.js"]
    for key in hashed:
        assert f'"/{key}"' in html
    assert '"app.js"' not in html and '"app.css"' not in html


def test_a_changed_asset_gets_a_new_name(tmp_path: Path) -> None:
    """Editing the script changes its key, so browsers holding the old one never mix them."""
    for name in ("index.html", "app.css", "app.js"):
        (tmp_path / name).write_bytes((STATIC / name).read_bytes())
    before = {a.key: a.body for a in build(tmp_path)}
    (tmp_path / "app.js").write_text((STATIC / "app.js").read_text() + "\n// changed\n")
    after = {a.key: a.body for a in build(tmp_path)}
    gone, new = set(before) - set(after), set(after) - set(before)
    assert [k.split(".")[0] for k in (*gone, *new)] == ["assets/app", "assets/app"]
    assert new.pop().encode() in after["index.html"]


def test_cache_headers_are_immutable_for_assets_and_short_for_the_html() -> None:
    """Hashed assets are cached for a year, immutable; the HTML for a minute."""
    for asset in build():
        if asset.key == "index.html":
            assert asset.cache_control == HTML_CACHE == "public, max-age=60"
            assert asset.content_type == "text/html; charset=utf-8"
        else:
            assert asset.cache_control == IMMUTABLE
            assert "max-age=31536000" in IMMUTABLE and "immutable" in IMMUTABLE


def test_an_html_without_the_asset_reference_is_a_build_error(tmp_path: Path) -> None:
    """A page that does not load its script cannot be built."""
    for name in ("app.css", "app.js"):
        (tmp_path / name).write_bytes((STATIC / name).read_bytes())
    (tmp_path / "index.html").write_text('<link rel="stylesheet" href="app.css">')
    with pytest.raises(BuildError, match=r"app\.js"):
        build(tmp_path)


@pytest.fixture(scope="module")
def cfn() -> Template:
    """The real template, transformed as for a local run."""
    return transform(load_sam(), region="eu-west-1")


def test_the_page_loads_nothing_the_headers_policy_forbids(cfn: Template) -> None:
    """No absolute URL, inline script, inline style or event handler in the page: what it
    loads is this origin's (and a data: icon), all the template's CSP header allows."""
    html = (STATIC / "index.html").read_text()
    css = (STATIC / "app.css").read_text()
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "url(" not in css and "@import" not in css
    assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:",
                         html)
    assert re.findall(r'(?:src|href)="([^"#]+)"', html) == ["data:,", "app.css", "app.js"]
    policy = distribution(cfn).default.headers
    assert policy is not None
    csp = str(policy.header("Content-Security-Policy"))
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'",
                      "img-src 'self' data:", "frame-ancestors 'none'"):
        assert f"{directive};" in f"{csp};", directive


def test_the_deploys_build_never_names_the_local_sign_in() -> None:
    """What `itinera web publish` uploads (the build and a Cognito or empty config.json)
    cannot point the page at /_local/*: only the local stack writes that config."""
    assert "local_token_url" not in inspect.signature(sign_in_config).parameters
    hosted = json.loads(sign_in_config(cognito_domain="auth.example.com",
                                       cognito_client_id="abc").body)
    assert hosted["sign_in"] == {"kind": "cognito", "domain": "auth.example.com",
                                 "client_id": "abc"}
    assert json.loads(sign_in_config().body) == {"sign_in": {"kind": "none"}}
    for asset in [*build(), sign_in_config(), sign_in_config(cognito_domain="a",
                                                             cognito_client_id="b")]:
        assert b"/_local" not in asset.body, asset.key
    assert json.loads(local_sign_in_config().body) == {
        "sign_in": {"kind": "local", "token_url": "/_local/token"}}


def test_upload_puts_the_html_last_with_each_objects_headers() -> None:
    """The HTML goes up after the assets it names, each with its type and cache header."""
    calls: list[dict[str, Any]] = []

    class FakeS3:
        def put_object(self, **kwargs: Any) -> None:
            calls.append(kwargs)

    assets = build()
    upload(FakeS3(), "web", list(reversed(assets)))
    assert [c["Key"] for c in calls][-1] == "index.html"
    assert {c["Key"]: (c["ContentType"], c["CacheControl"]) for c in calls} == \
        {a.key: (a.content_type, a.cache_control) for a in assets}
