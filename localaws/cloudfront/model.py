"""What the SAM template declares about the CloudFront distribution: origins and behaviours."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from localaws.cloudfront.headers import HeadersPolicy, headers_policy
from localaws.template import Template, TemplateError

DISTRIBUTION = "AWS::CloudFront::Distribution"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
# CloudFront's default for a behaviour that lists no AllowedMethods.
DEFAULT_METHODS = frozenset({"GET", "HEAD"})
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


@dataclass(frozen=True, kw_only=True)
class OriginTimeouts:
    """How CloudFront talks to an origin, in seconds; its documented defaults where unset."""

    # Per try to connect, and how many tries (a request is sent once connected).
    connection_timeout: float = 10.0
    connection_attempts: int = 3
    # For the answer's first byte and between its packets (GET and HEAD try again on it).
    read_timeout: float = 30.0
    # How long an idle connection to the origin is kept for the next request.
    keepalive_timeout: float = 5.0


@dataclass(frozen=True, kw_only=True)
class Origin:
    """Where a behaviour sends requests: an S3 bucket or a load balancer, by logical id."""

    id: str
    kind: str  # "s3" or "alb"
    resource: str
    timeouts: OriginTimeouts = OriginTimeouts()


@dataclass(frozen=True, kw_only=True)
class Behavior:
    """A cache behaviour: which paths it takes, where they go, which methods it lets in."""

    path_pattern: str
    origin: Origin
    methods: frozenset[str] = DEFAULT_METHODS
    compress: bool = False
    cached: bool = True
    headers: HeadersPolicy | None = None

    def matches(self, path: str) -> bool:
        """Return whether *path* matches this behaviour's pattern, as CloudFront matches it."""
        return _pattern(self.path_pattern).fullmatch(path) is not None


@dataclass(frozen=True, kw_only=True)
class Distribution:
    """The distribution: its behaviours in CloudFront's order, the default one last."""

    logical_id: str
    behaviors: tuple[Behavior, ...]
    default_root_object: str = ""

    def behavior(self, path: str) -> Behavior:
        """Return the first behaviour whose pattern matches *path* (the default matches all)."""
        return next(b for b in self.behaviors if b.matches(path))

    @property
    def default(self) -> Behavior:
        """Return the default behaviour (`*`): it answers before a request's path is known."""
        return self.behaviors[-1]


def distribution(template: Template) -> Distribution:
    """Return the template's one distribution."""
    found = template.of_type(DISTRIBUTION)
    if len(found) != 1:
        raise TemplateError(f"the local CloudFront expects one distribution, found {len(found)}")
    (logical_id, resource), = found.items()
    config = resource["Properties"]["DistributionConfig"]
    origins = {o["Id"]: _origin(template, o) for o in config["Origins"]}

    def behavior(spec: dict[str, Any], pattern: str) -> Behavior:
        if spec["TargetOriginId"] not in origins:
            raise TemplateError(f"behaviour {pattern} targets unknown origin "
                                f"{spec['TargetOriginId']}")
        policy = _ref(spec.get("ResponseHeadersPolicyId"))
        return Behavior(path_pattern=pattern, origin=origins[spec["TargetOriginId"]],
                        methods=frozenset(spec.get("AllowedMethods", DEFAULT_METHODS)),
                        compress=bool(spec.get("Compress", False)),
                        cached=spec.get("CachePolicyId") != CACHING_DISABLED,
                        headers=headers_policy(template, policy) if policy else None)

    ordered = [behavior(b, b["PathPattern"]) for b in config.get("CacheBehaviors", [])]
    ordered.append(behavior(config["DefaultCacheBehavior"], "*"))
    return Distribution(logical_id=logical_id, behaviors=tuple(ordered),
                        default_root_object=str(config.get("DefaultRootObject", "")))


def alb_service(template: Template, alb: str) -> str:
    """Return the ECS service behind load balancer *alb*: its listeners' forward target group."""
    from localaws.elb.model import target_groups

    listeners = {name for name, r in template.of_type(LISTENER).items()
                 if _ref(r["Properties"].get("LoadBalancerArn")) == alb}
    actions = [a for name in listeners
               for a in template.resources[name]["Properties"].get("DefaultActions", [])]
    actions += [a for r in template.of_type(LISTENER_RULE).values()
                if _ref(r["Properties"].get("ListenerArn")) in listeners
                for a in r["Properties"].get("Actions", [])]
    groups = {_ref(a.get("TargetGroupArn")) for a in actions if a.get("Type") == "forward"}
    services = [g.service for g in target_groups(template).values() if g.logical_id in groups]
    if len(services) != 1:
        raise TemplateError(f"{alb} forwards to {sorted(groups)}; the local CloudFront "
                            "expects exactly one service behind it")
    return services[0]


def _timeouts(spec: dict[str, Any]) -> OriginTimeouts:
    defaults = OriginTimeouts()
    kinds = ("VpcOriginConfig", "CustomOriginConfig", "S3OriginConfig")
    config: dict[str, Any] = next((spec[k] for k in kinds if k in spec), {})
    return OriginTimeouts(
        connection_timeout=float(spec.get("ConnectionTimeout", defaults.connection_timeout)),
        connection_attempts=int(spec.get("ConnectionAttempts", defaults.connection_attempts)),
        read_timeout=float(config.get("OriginReadTimeout", defaults.read_timeout)),
        keepalive_timeout=float(config.get("OriginKeepaliveTimeout",
                                           defaults.keepalive_timeout)))


def _origin(template: Template, spec: dict[str, Any]) -> Origin:
    timeouts = _timeouts(spec)
    vpc_origin = _ref(spec.get("VpcOriginConfig", {}).get("VpcOriginId"))
    if vpc_origin:
        # A VPC origin reaches an internal load balancer, named by the VpcOrigin resource.
        endpoint = template.resources[vpc_origin]["Properties"]["VpcOriginEndpointConfig"]
        balancer = _ref(endpoint.get("Arn"))
        if not balancer:
            raise TemplateError(f"VPC origin {vpc_origin} names no load balancer by !Ref")
        return Origin(id=spec["Id"], kind="alb", resource=balancer, timeouts=timeouts)
    domain = spec["DomainName"]
    attribute = domain.get("Fn::GetAtt") if isinstance(domain, dict) else None
    if not attribute:
        raise TemplateError(f"origin {spec['Id']} names its domain as {domain!r}; the local "
                            "CloudFront expects !GetAtt <Bucket>.RegionalDomainName, "
                            "!GetAtt <LoadBalancer>.DNSName or a VPC origin")
    resource, name = attribute if isinstance(attribute, list) else attribute.split(".", 1)
    if "S3OriginConfig" in spec and name in ("RegionalDomainName", "DomainName"):
        return Origin(id=spec["Id"], kind="s3", resource=resource, timeouts=timeouts)
    if "CustomOriginConfig" in spec and name == "DNSName":
        return Origin(id=spec["Id"], kind="alb", resource=resource, timeouts=timeouts)
    raise TemplateError(f"origin {spec['Id']} ({resource}.{name}) is neither an S3 bucket "
                        "nor a load balancer")


def _ref(value: Any) -> str:
    return str(value["Ref"]) if isinstance(value, dict) and "Ref" in value else ""


def _pattern(path_pattern: str) -> re.Pattern[str]:
    # CloudFront: `*` is any run of characters, `?` exactly one, case-sensitive; a pattern
    # without a leading slash is read as if it had one.
    glob = path_pattern if path_pattern.startswith(("/", "*")) else "/" + path_pattern
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in glob), re.DOTALL)
