"""Flatten nested stacks into one template, so the local stack plans one set of resources.

`infra/sam/template.yaml` is a root of nested stacks (`AWS::CloudFormation::Stack` with a local
`TemplateURL`, `AWS::Serverless::Application` with a local `Location`). Flattening puts each
child's resources, conditions, mappings and SAM globals in the parent, substitutes the child's
parameters with what the parent passes, and replaces `Fn::GetAtt [Child, Outputs.X]` with the
child's output expression. Naming rule: a child template used once keeps its logical ids
(`BookingsTable`, `NotifierQueue`); one used by several nested stacks (`service.yaml`) gets
each id prefixed by the nested stack's (`Gateway` + `Service` = `GatewayService`). Two
resources with one id are an error. Conditions and `Fn::If` whose values are all known then
are decided, so a reused template's optional settings read as if written out.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from pathlib import Path
from typing import Any

from localaws.conditions import simplify

NESTED = {"AWS::CloudFormation::Stack": "TemplateURL", "AWS::Serverless::Application": "Location"}
_SUB_TOKEN = re.compile(r"\$\{([^}!][^}]*)\}")


class FlattenError(ValueError):
    """The nested stacks cannot be put together as one template."""


def is_nested(template: dict[str, Any]) -> bool:
    """Return whether *template* has a nested stack with a local template."""
    return any(r.get("Type") in NESTED for r in template.get("Resources", {}).values())


def flatten(template: dict[str, Any], base: Path, load: Any) -> dict[str, Any]:
    """Return *template* (found in folder *base*) with its nested stacks flattened into it.

    *load* reads a child template file into a dict with short-form intrinsics decoded.
    """
    flat = copy.deepcopy(template)
    resources: dict[str, Any] = flat.setdefault("Resources", {})
    children = {name: base / _location(name, r) for name, r in resources.items()
                if r.get("Type") in NESTED}
    uses = Counter(children.values())
    outputs: dict[str, dict[str, Any]] = {}
    for name, path in children.items():
        stack = resources.pop(name)
        if "Condition" in stack:
            raise FlattenError(f"nested stack {name} has a Condition; the flattener has none")
        child = flatten(load(path), path.parent, load)
        prefix = name if uses[path] > 1 else ""
        outputs[name] = _merge(flat, child, prefix=prefix,
                               passed=stack.get("Properties", {}).get("Parameters", {}),
                               source=path.name)
    # Outputs may name other nested stacks' outputs (siblings wired to each other).
    for _ in range(len(outputs) + 1):
        before = repr(flat)
        flat = _replace_outputs(flat, outputs)
        outputs = {n: _replace_outputs(o, outputs) for n, o in outputs.items()}
        if repr(flat) == before:
            break
    return simplify(flat)


def _location(name: str, resource: dict[str, Any]) -> str:
    value = resource.get("Properties", {}).get(NESTED[resource["Type"]])
    if not isinstance(value, str) or "://" in value:
        raise FlattenError(f"nested stack {name} must name a local template file, got {value!r}")
    return value


def _merge(flat: dict[str, Any], child: dict[str, Any], *, prefix: str,
           passed: dict[str, Any], source: str) -> dict[str, Any]:
    """Add *child* into *flat*; return the child's outputs as expressions of *flat*."""
    renames = {n: prefix + n for n in child.get("Resources", {})}
    conditions = {n: prefix + n for n in child.get("Conditions", {})}
    params = _parameter_values(child.get("Parameters", {}), passed, source)
    rewrite = _Rewriter(params=params, renames=renames, conditions=conditions)
    for section, names in (("Resources", renames), ("Conditions", conditions)):
        target = flat.setdefault(section, {})
        for old, new in names.items():
            rewritten = rewrite(child[section][old])
            # The same condition computed from the same values may appear in several stacks.
            if new in target and (section == "Resources" or target[new] != rewritten):
                raise FlattenError(f"{section[:-1].lower()} {new} of {source} clashes with "
                                   f"one already in the flattened template")
            target[new] = rewritten
            if section == "Resources":
                _rename_keys(target[new], conditions, renames)
    for name, mapping in child.get("Mappings", {}).items():
        if flat.setdefault("Mappings", {}).setdefault(name, mapping) != mapping:
            raise FlattenError(f"mapping {name} of {source} differs from one of the same name")
    for section, values in child.get("Globals", {}).items():
        if section in flat.setdefault("Globals", {}):
            raise FlattenError(f"Globals.{section} of {source} clashes with the parent's")
        flat["Globals"][section] = rewrite(values)
    return {name: rewrite(output["Value"]) for name, output in child.get("Outputs", {}).items()}


def _parameter_values(declared: dict[str, Any], passed: dict[str, Any],
                      source: str) -> dict[str, Any]:
    unknown = set(passed) - set(declared)
    if unknown:
        raise FlattenError(f"{source} declares no parameter {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in passed:
            value = copy.deepcopy(passed[name])
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise FlattenError(f"parameter {name} of {source} has no value and no default")
        if str(spec.get("Type", "")).startswith(("CommaDelimitedList", "List<")):
            value = value.split(",") if isinstance(value, str) else {"Fn::Split": [",", value]}
        elif isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        values[name] = value
    return values


def _rename_keys(resource: dict[str, Any], conditions: dict[str, str],
                 renames: dict[str, str]) -> None:
    if isinstance(resource.get("Condition"), str):
        resource["Condition"] = conditions.get(resource["Condition"], resource["Condition"])
    depends = resource.get("DependsOn")
    if isinstance(depends, str):
        resource["DependsOn"] = renames.get(depends, depends)
    elif isinstance(depends, list):
        resource["DependsOn"] = [renames.get(d, d) for d in depends]


class _Rewriter:
    """Rewrite a child's intrinsics into the flattened template's names."""

    def __init__(self, *, params: dict[str, Any], renames: dict[str, str],
                 conditions: dict[str, str]) -> None:
        self.params = params
        self.renames = renames
        self.conditions = conditions

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref" and isinstance(arg, str):
                if arg in self.params:
                    return copy.deepcopy(self.params[arg])
                return {"Ref": self.renames.get(arg, arg)}
            if key == "Fn::GetAtt":
                name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return {"Fn::GetAtt": [self.renames.get(name, name), attribute]}
            if key == "Condition" and isinstance(arg, str):
                return {"Condition": self.conditions.get(arg, arg)}
            if key == "Fn::If":
                name, *branches = arg
                return {"Fn::If": [self.conditions.get(name, name), *self(branches)]}
            if key == "Fn::Sub":
                return self._sub(arg)
        return {k: self(v) for k, v in value.items()}

    def _sub(self, arg: Any) -> Any:
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], dict(arg[1]))
        local = {k: self(v) for k, v in local.items()}
        variables: dict[str, Any] = {}

        def one(match: re.Match[str]) -> str:
            token = match.group(1)
            name, _, attribute = token.partition(".")
            if token in local or name.startswith("AWS::"):
                return match.group(0)
            if not attribute and name in self.params:
                value = self.params[name]
                if isinstance(value, str):
                    return value
                key = f"P{len(variables)}x{name}"
                variables[key] = copy.deepcopy(value)
                return "${" + key + "}"
            renamed = self.renames.get(name, name)
            return "${" + renamed + ("." + attribute if attribute else "") + "}"

        text = _SUB_TOKEN.sub(one, text)
        merged = {**local, **variables}
        return {"Fn::Sub": [text, merged] if merged else text}


def _replace_outputs(value: Any, outputs: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, list):
        return [_replace_outputs(v, outputs) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, arg), = value.items()
        if key == "Fn::GetAtt":
            name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            if name in outputs and attribute.startswith("Outputs."):
                return copy.deepcopy(_output(outputs, name, attribute))
        if key == "Fn::Sub":
            return _sub_outputs(arg, outputs)
    return {k: _replace_outputs(v, outputs) for k, v in value.items()}


def _output(outputs: dict[str, dict[str, Any]], name: str, attribute: str) -> Any:
    output = attribute.split(".", 1)[1]
    if output not in outputs[name]:
        raise FlattenError(f"nested stack {name} has no output {output}")
    return outputs[name][output]


def _sub_outputs(arg: Any, outputs: dict[str, dict[str, Any]]) -> Any:
    text, local = (arg, {}) if isinstance(arg, str) else (arg[0], dict(arg[1]))
    local = {k: _replace_outputs(v, outputs) for k, v in local.items()}

    def one(match: re.Match[str]) -> str:
        token = match.group(1)
        name, _, attribute = token.partition(".")
        if name in outputs and attribute.startswith("Outputs."):
            value = _output(outputs, name, attribute)
            if isinstance(value, str):
                return value
            key = "O" + re.sub(r"[^A-Za-z0-9]", "", token)
            local[key] = copy.deepcopy(value)
            return "${" + key + "}"
        return match.group(0)

    text = _SUB_TOKEN.sub(one, text)
    return {"Fn::Sub": [text, local] if local else text}
