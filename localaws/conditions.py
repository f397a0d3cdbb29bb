"""Decide, in a flattened template, the conditions and `Fn::If`s whose values are known.

A reused nested template (`service.yaml`) switches its optional parts on parameters; once the
parent's values are in, most of those conditions compare literals (or a resource's never
empty Ref with ""), and deciding them makes the flattened template read as if written out.
"""

from __future__ import annotations

from typing import Any

NO_VALUE = {"Ref": "AWS::NoValue"}
_UNKNOWN = object()
# A value not known yet but never empty: a resource's Ref or attribute.
_NONEMPTY = object()


def simplify(template: dict[str, Any]) -> dict[str, Any]:
    """Decide the conditions whose inputs are literals and the `Fn::If`s that use them."""
    conditions = template.get("Conditions", {})
    known: dict[str, bool] = {}
    names = set(template.get("Resources", {}))
    for _ in range(len(conditions) + 1):
        for name, expression in conditions.items():
            if name not in known:
                truth = _truth(expression, known, names)
                if truth is not _UNKNOWN:
                    known[name] = bool(truth)
    resources = {}
    for name, resource in template.get("Resources", {}).items():
        condition = resource.get("Condition")
        if isinstance(condition, str) and condition in known:
            if not known[condition]:
                continue
            resource = {k: v for k, v in resource.items() if k != "Condition"}
        resources[name] = _decide(resource, known)
    template = {**template, "Resources": resources}
    if "Globals" in template:
        template["Globals"] = _decide(template["Globals"], known)
    return template


def _truth(expression: Any, known: dict[str, bool], resources: set[str]) -> Any:
    if not isinstance(expression, dict) or len(expression) != 1:
        return _UNKNOWN
    (key, arg), = expression.items()
    if key == "Condition":
        return known.get(arg, _UNKNOWN)
    if key == "Fn::Equals":
        left, right = (_literal(a, resources) for a in arg)
        if _NONEMPTY in (left, right):
            return False if "" in (left, right) else _UNKNOWN
        return _UNKNOWN if _UNKNOWN in (left, right) else str(left) == str(right)
    parts = ([_truth(a, known, resources) for a in arg] if isinstance(arg, list)
             else [_UNKNOWN])
    if key == "Fn::Not":
        return _UNKNOWN if parts[0] is _UNKNOWN else not parts[0]
    if key == "Fn::And":
        return False if False in parts else (_UNKNOWN if _UNKNOWN in parts else True)
    if key == "Fn::Or":
        return True if True in parts else (_UNKNOWN if _UNKNOWN in parts else False)
    return _UNKNOWN


def _literal(value: Any, resources: set[str]) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        return _UNKNOWN
    (key, arg), = value.items()
    if (key == "Ref" and arg in resources) or key == "Fn::GetAtt":
        return _NONEMPTY
    if key == "Fn::Split":
        return _literal(arg[1], resources)
    if key == "Fn::Join":
        separator, parts = arg
        values = [_literal(p, resources) for p in parts] if isinstance(parts, list) \
            else [_literal(parts, resources)]
        if _NONEMPTY in values:
            return _NONEMPTY
        if all(isinstance(v, str) for v in values):
            return separator.join(values)
    return _UNKNOWN


def _decide(value: Any, known: dict[str, bool]) -> Any:
    if isinstance(value, list):
        items = [_decide(v, known) for v in value]
        return [v for v in items if v != NO_VALUE]
    if not isinstance(value, dict):
        return value
    if list(value) == ["Fn::If"]:
        name, when_true, when_false = value["Fn::If"]
        if name in known:
            return _decide(when_true if known[name] else when_false, known)
        # Undecided: keep both branches, a NoValue branch included.
        return {"Fn::If": [name, *(b if b == NO_VALUE else _decide(b, known)
                                   for b in (when_true, when_false))]}
    decided = {k: _decide(v, known) for k, v in value.items()}
    return {k: v for k, v in decided.items() if v != NO_VALUE}
