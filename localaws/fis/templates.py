"""An `AWS::FIS::ExperimentTemplate` resource's properties in FIS's API shape.

CloudFormation names FIS's fields in PascalCase; the API (CreateExperimentTemplate,
GetExperimentTemplate) in camelCase, and calls the report's S3 output `s3Configuration`
where CloudFormation says `ExperimentReportS3Configuration`. Names chosen by the template's
author (targets, actions, parameters, tags, an action's target keys) stay as written.
"""

from __future__ import annotations

from typing import Any

# Maps whose keys are names, not field names: their keys are kept as they are.
_NAMED = frozenset({"Targets", "Actions", "Parameters", "ResourceTags", "Tags"})
_RENAMED = {"ExperimentReportS3Configuration": "s3Configuration"}


def _camel(key: str) -> str:
    return _RENAMED.get(key, key[:1].lower() + key[1:])


def _convert(value: Any, *, named: bool = False, verbatim: bool = False) -> Any:
    if verbatim or not isinstance(value, dict | list):
        return value
    if isinstance(value, list):
        return [_convert(v) for v in value]
    if named:
        return {name: _convert(spec) for name, spec in value.items()}
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in ("Parameters", "ResourceTags", "Tags"):
            out[_camel(key)] = dict(item)  # the author's keys and values, as written
        elif key == "Targets" and isinstance(item, dict) and all(
                isinstance(v, str) for v in item.values()):
            out["targets"] = dict(item)  # an action's targets: {"Tasks": "target-name"}
        else:
            out[_camel(key)] = _convert(item, named=key in _NAMED)
    return out


def from_cloudformation(properties: dict[str, Any]) -> dict[str, Any]:
    """Return the CreateExperimentTemplate request the resource's *properties* describe."""
    return dict(_convert(properties))
