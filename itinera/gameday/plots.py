"""The game day's figure: load, latency, errors, healthy hosts per AZ, running tasks."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loadtests.plots import _pyplot, errors, requests_per_second
from loadtests.stats import AGGREGATED, Recorded


def cloudwatch_series(record: dict[str, Any], state_dir: Path, start: float, end: float
                      ) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """Return HealthyHostCount per target group and AZ, and RunningTaskCount per service."""
    from itinera.gameday.local import aws_client
    from itinera.localstack.cloudwatch.reader import local_reader

    aws = record["aws"]
    reader = local_reader(state_dir, aws["AWS_ENDPOINT_URL"], aws["AWS_DEFAULT_REGION"],
                          credentials=aws)
    cloudwatch = aws_client(record, "cloudwatch")
    wanted = {"healthy hosts": ("AWS/ApplicationELB", "HealthyHostCount"),
              "running tasks": ("ECS/ContainerInsights", "RunningTaskCount")}
    out: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for title, (namespace, name) in wanted.items():
        listed = cloudwatch.list_metrics(Namespace=namespace, MetricName=name)["Metrics"]
        queries, labels = [], {}
        for i, metric in enumerate(listed):
            dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            # Per target group and AZ only: one line per AZ and service.
            per_az = {"AvailabilityZone", "TargetGroup"} <= set(dims) and "LoadBalancer" not in dims
            if namespace == "AWS/ApplicationELB" and not per_az:
                continue
            labels[f"m{i}"] = " ".join(v.split("/")[1] if v.startswith("targetgroup/") else v
                                       for k, v in sorted(dims.items()) if k != "ClusterName")
            queries.append({"Id": f"m{i}", "ReturnData": True, "MetricStat": {
                "Metric": metric, "Period": 1, "Stat": "Maximum"}})
        if not queries:
            out[title] = {}
            continue
        found = reader.get_metric_data(queries, datetime.fromtimestamp(start, UTC),
                                       datetime.fromtimestamp(end, UTC))
        out[title] = {labels[k]: [(p.timestamp(), v) for p, v in points]
                      for k, points in found.items() if points}
    return out


def write_figure(folder: Path, recorded: Recorded | None,
                 series: dict[str, dict[str, list[tuple[float, float]]]],
                 fault: tuple[float, float] | None) -> Path:
    """Write gameday.png: five panels with the fault window shaded; return its path."""
    plt = _pyplot()
    fig, axes = plt.subplots(5, 1, figsize=(11, 17))
    t0 = float(recorded.history[AGGREGATED][0].t) if recorded and recorded.history.get(
        AGGREGATED) else (fault[0] if fault else 0.0)
    if recorded is not None and recorded.history:
        requests_per_second(recorded, axes[0])
        total = [s for s in recorded.history.get(AGGREGATED, []) if s.requests]
        for p, style in ((50, "-"), (95, "--"), (99, ":")):
            axes[1].plot([s.t - t0 for s in total],
                         [s.percentiles.get(p) or math.nan for s in total], style, label=f"p{p}")
        axes[1].set(title="Response time, all requests (ms, locust's 10 s window)",
                    xlabel="seconds", ylabel="ms")
        axes[1].legend(fontsize="small")
        errors(recorded, axes[2])
    for ax, title in ((axes[3], "healthy hosts"), (axes[4], "running tasks")):
        for label, points in sorted(series.get(title, {}).items()):
            ax.step([t - t0 for t, _ in points], [v for _, v in points], where="post",
                    label=label)
        if series.get(title):
            ax.legend(fontsize="small")
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        ax.set(title=f"{title} (local CloudWatch)", xlabel="seconds")
    if fault is not None:
        for ax in axes:
            ax.axvspan(fault[0] - t0, fault[1] - t0, color="tab:orange", alpha=0.15)
    fig.tight_layout()
    path = folder / "gameday.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
