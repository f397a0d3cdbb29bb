"""A response headers policy, as the template declares it and as CloudFront applies it."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from localaws.template import Template, TemplateError

RESPONSE_HEADERS_POLICY = "AWS::CloudFront::ResponseHeadersPolicy"
# What CloudFront sends as `Server` on its own answers, and in place of an origin's that a
# policy removes (never a version).
CLOUDFRONT_SERVER = "CloudFront"


@dataclass(frozen=True)
class AddedHeader:
    """A header the policy adds; with `override`, it replaces the origin's own."""

    name: str
    value: str
    override: bool


@dataclass(frozen=True, kw_only=True)
class HeadersPolicy:
    """The headers a policy removes from every answer, then the ones it adds."""

    name: str
    added: tuple[AddedHeader, ...] = ()
    removed: frozenset[str] = frozenset()

    def apply(self, headers: MutableMapping[str, str]) -> None:
        """Change *headers* (case-insensitive) as CloudFront does: remove, then add."""
        for name in self.removed:
            if name in headers:
                del headers[name]  # every field of that name
        for header in self.added:
            if header.override or header.name not in headers:
                headers[header.name] = header.value

    def header(self, name: str) -> str | None:
        """Return the value the policy adds for *name*, if any."""
        return next((h.value for h in self.added if h.name.lower() == name.lower()), None)


def name_server(headers: MutableMapping[str, str]) -> None:
    """Give an answer CloudFront's `Server` unless it keeps the origin's."""
    headers.setdefault("Server", CLOUDFRONT_SERVER)


def headers_policy(template: Template, logical_id: str) -> HeadersPolicy:
    """Return the response headers policy *logical_id* of *template*."""
    resource = template.resources.get(logical_id, {})
    if resource.get("Type") != RESPONSE_HEADERS_POLICY:
        raise TemplateError(f"{logical_id} is not a response headers policy")
    config = resource["Properties"]["ResponseHeadersPolicyConfig"]
    if "CorsConfig" in config or "ServerTimingHeadersConfig" in config:
        raise TemplateError(f"{logical_id}: the local CloudFront applies security, custom and "
                            "removed headers only (no CORS, no Server-Timing)")
    added = [*_security(config.get("SecurityHeadersConfig", {})),
             *[AddedHeader(h["Header"], str(h["Value"]), bool(h["Override"]))
               for h in config.get("CustomHeadersConfig", {}).get("Items", [])]]
    removed = frozenset(h["Header"] for h in config.get("RemoveHeadersConfig", {})
                        .get("Items", []))
    return HeadersPolicy(name=logical_id, added=tuple(added), removed=removed)


def _security(config: dict[str, Any]) -> list[AddedHeader]:
    out = []
    if csp := config.get("ContentSecurityPolicy"):
        out.append(AddedHeader("Content-Security-Policy", " ".join(
            str(csp["ContentSecurityPolicy"]).split()), bool(csp["Override"])))
    if cto := config.get("ContentTypeOptions"):
        out.append(AddedHeader("X-Content-Type-Options", "nosniff", bool(cto["Override"])))
    if frame := config.get("FrameOptions"):
        out.append(AddedHeader("X-Frame-Options", str(frame["FrameOption"]),
                               bool(frame["Override"])))
    if referrer := config.get("ReferrerPolicy"):
        out.append(AddedHeader("Referrer-Policy", str(referrer["ReferrerPolicy"]),
                               bool(referrer["Override"])))
    if hsts := config.get("StrictTransportSecurity"):
        value = f"max-age={int(hsts['AccessControlMaxAgeSec'])}"
        value += "; includeSubDomains" if hsts.get("IncludeSubdomains") else ""
        value += "; preload" if hsts.get("Preload") else ""
        out.append(AddedHeader("Strict-Transport-Security", value, bool(hsts["Override"])))
    if xss := config.get("XSSProtection"):
        value = "1" if xss["Protection"] else "0"
        value += "; mode=block" if xss.get("ModeBlock") else ""
        value += f"; report={xss['ReportUri']}" if xss.get("ReportUri") else ""
        out.append(AddedHeader("X-XSS-Protection", value, bool(xss["Override"])))
    return out
