"""Record every AWS call made through boto3 in this process, to check it against botocore's
service model (operation and parameters valid for the pinned botocore)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.model import OperationModel
from botocore.validate import ParamValidator


@dataclass(frozen=True)
class Call:
    """One AWS call: boto3's service name, the operation, its parameters and model."""

    service: str
    operation: str
    params: dict[str, Any]
    model: OperationModel

    def problems(self) -> str:
        """Return what botocore's model finds wrong with the parameters ('' when valid)."""
        report = ParamValidator().validate(self.params, self.model.input_shape)
        return str(report.generate_report()) if report.has_errors() else ""


@contextmanager
def recorded_calls() -> Iterator[list[Call]]:
    """Record the calls of every boto3 client made from the default session meanwhile."""
    session = boto3._get_default_session()
    calls: list[Call] = []

    def record(params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        calls.append(Call(model.service_model.service_name, model.name,
                          copy.deepcopy(params), model))

    session.events.register("before-parameter-build", record)
    try:
        yield calls
    finally:
        session.events.unregister("before-parameter-build", record)
