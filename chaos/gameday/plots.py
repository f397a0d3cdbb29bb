"""The game day's figure: load, latency, errors, healthy hosts per AZ, running tasks."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loadtests import names
from loadtests.plots import _pyplot, errors, requests_per_second
from loadtests.stats import AGGREGATED, Recorded


def cloudwatch_series(cloudwatch: Any, start: float, end: float
                      ) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """Return HealthyHostCount per target group and AZ, and RunningTaskCount per service,
    from CloudWatch (ListMetrics, GetMetricData)."""
    from localaws.cloudwatch.reader import CloudWatchReader

    reader = CloudWatchReader(cloudwatch)
    wanted = {"healthy hosts": ("AWS/ApplicationELB", "HealthyHostCount"),
              "running tasks": ("ECS/ContainerInsights", "RunningTaskCount")}
    out: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for title, (namespace, name) in wanted.items():
        listed = cloudwatch.list_metrics(Namespace=namespace, MetricName=name)["Metrics"]
        queries: list[dict[str, Any]] = []
        labels: dict[str, str] = {}
        seen: set[tuple[tuple[str, str], ...]] = set()
        for metric in listed:
            dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            key = tuple(sorted(dims.items()))
            # moto lists a metric once per datapoint; the ALB's are wanted per AZ only.
            if key in seen or (namespace == "AWS/ApplicationELB"
                               and not {"AvailabilityZone", "TargetGroup"} <= set(dims)):
                continue
            seen.add(key)
            query_id = f"m{len(queries)}"
            labels[query_id] = " ".join(_short(v) for k, v in key
                                        if k not in ("ClusterName", "LoadBalancer"))
            # The minimum shows a dip that a one-second period would average away.
            queries.append({"Id": query_id, "ReturnData": True, "MetricStat": {
                "Metric": metric, "Period": 1, "Stat": "Minimum"}})
        if not queries:
            out[title] = {}
            continue
        found = reader.get_metric_data(queries, datetime.fromtimestamp(start, UTC),
                                       datetime.fromtimestamp(end, UTC))
        out[title] = {labels[k]: [(p.timestamp(), v) for p, v in points]
                      for k, points in found.items() if points}
    return out


def _short(value: str) -> str:
    """Return `itinera-dev-InventoryTargetGroup` as `Inventory`, other values as they are."""
    if value.startswith("targetgroup/"):
        return value.split("/")[1].rsplit("-", 1)[-1].removesuffix("TargetGroup")
    return value


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
        busiest = sorted((k for k in recorded.history if k != AGGREGATED
                          and k.split(" ", 1)[0] not in names.OUTCOME_TYPES),
                         key=lambda k: -recorded.history[k][-1].requests)[:5]
        for key in busiest:
            samples = [s for s in recorded.history[key] if s.requests]
            axes[1].plot([s.t - t0 for s in samples],
                         [s.percentiles.get(95) or math.nan for s in samples], label=key)
        axes[1].set(title="p95 response time of the busiest endpoints (ms, locust's 10 s "
                          "window)", xlabel="seconds", ylabel="ms")
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
    right = max([1.0, *(ax.get_xlim()[1] for ax in axes[:2])])
    for ax in axes:
        ax.set_xlim(0, right)
        if fault is not None:
            # At least a second wide: a stop-task is an instant, but must show.
            ax.axvspan(fault[0] - t0, max(fault[1], fault[0] + 1) - t0, color="tab:orange",
                       alpha=0.2, label="fault")
    fig.tight_layout()
    path = folder / "gameday.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
