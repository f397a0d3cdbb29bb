"""PNG plots of a run from locust's full stats history (matplotlib, no display needed)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from loadtests import names
from loadtests.scaling import ServiceScaling
from loadtests.stats import AGGREGATED, Recorded, Sample, per_second


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: a load generator has no display
    import matplotlib.pyplot as plt

    return plt


def _http_keys(recorded: Recorded) -> list[str]:
    keys = [k for k in recorded.history if k != AGGREGATED and k.split(" ", 1)[0]
            not in names.OUTCOME_TYPES]
    return sorted(keys, key=lambda k: -(recorded.history[k][-1].requests))


def _t(samples: list[Sample], t0: int) -> list[int]:
    return [s.t - t0 for s in samples]


def _start(recorded: Recorded) -> int:
    total = recorded.history.get(AGGREGATED) or next(iter(recorded.history.values()))
    return total[0].t


def requests_per_second(recorded: Recorded, ax: Any, *, window: int = 5) -> None:
    """Draw HTTP requests and failures per second (averaged over *window* seconds), and the
    users, over time."""
    t0, keys = _start(recorded), _http_keys(recorded)
    by_t: dict[int, float] = {}
    failed: dict[int, float] = {}
    for key in keys:
        for t, rate in per_second(recorded.history[key], window=window):
            by_t[t] = by_t.get(t, 0.0) + rate
        for t, rate in per_second(recorded.history[key], failures=True, window=window):
            failed[t] = failed.get(t, 0.0) + rate
    ts = sorted(by_t)
    ax.plot([t - t0 for t in ts], [by_t[t] for t in ts], label="requests/s")
    ax.plot([t - t0 for t in ts], [failed.get(t, 0.0) for t in ts], label="failures/s",
            color="tab:red")
    users = recorded.history.get(AGGREGATED, [])
    twin = ax.twinx()
    twin.plot(_t(users, t0), [s.users for s in users], color="grey", linestyle=":",
              label="users")
    twin.set_ylabel("users")
    ax.set(title="HTTP requests per second", xlabel="seconds", ylabel="per second")
    ax.legend(loc="upper left", fontsize="small")


def latency(recorded: Recorded, fig: Any) -> None:
    """Draw p50, p95 and p99 over time, one panel per endpoint (locust's 10 s window)."""
    keys = _http_keys(recorded) + [k for k in recorded.history
                                   if k.startswith(f"{names.BOOKING} ")]
    t0 = _start(recorded)
    cols = 3
    rows = max(1, math.ceil(len(keys) / cols))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        samples = [s for s in recorded.history[key] if s.requests]
        for p, style in ((50, "-"), (95, "--"), (99, ":")):
            ax.plot(_t(samples, t0), [s.percentiles.get(p) or math.nan for s in samples],
                    style, label=f"p{p}")
        ax.set_title(key, fontsize="small")
        ax.set_ylabel("ms", fontsize="small")
        ax.tick_params(labelsize="small")
        ax.set_ylim(bottom=0)
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize="small")
    fig.suptitle("Response time percentiles over time (ms)")


def errors(recorded: Recorded, ax: Any) -> None:
    """Draw failures per second of each endpoint that failed at all."""
    t0 = _start(recorded)
    drawn = 0
    for key in _http_keys(recorded) + [k for k in recorded.history
                                       if k.startswith(f"{names.BOOKING} ")]:
        if recorded.history[key][-1].failures:
            points = per_second(recorded.history[key], failures=True)
            ax.plot([t - t0 for t, _ in points], [r for _, r in points], label=key)
            drawn += 1
    if not drawn:
        ax.text(0.5, 0.5, "no failures", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(fontsize="small")
    ax.set(title="Failures per second", xlabel="seconds", ylabel="per second")


def bookings_confirmed(recorded: Recorded, ax: Any) -> None:
    """Draw bookings confirmed per second, and checkouts that missed their outcome."""
    t0 = _start(recorded)
    for name, label, color in ((names.CONFIRMED, "confirmed/s", "tab:green"),
                               (names.CONFIRMED_AFTER_RETRY, "confirmed after a card retry/s",
                                "tab:olive")):
        samples = recorded.history.get(f"{names.BOOKING} {name}", [])
        if not samples:
            continue
        points = per_second(samples, successes=True)
        ax.plot([t - t0 for t, _ in points], [r for _, r in points], label=label, color=color)
        missed = per_second(samples, failures=True)
        if samples[-1].failures:
            ax.plot([t - t0 for t, _ in missed], [r for _, r in missed],
                    label=f"{label.split('/')[0]} missed/s", color="tab:red")
    ax.set(title="Bookings confirmed per second", xlabel="seconds", ylabel="per second")
    if ax.get_legend_handles_labels()[0]:  # a run without bookings draws nothing here
        ax.legend(fontsize="small")


def write_plots(recorded: Recorded, folder: Path) -> list[Path]:
    """Write the run's PNG plots into *folder* and return their paths."""
    plt = _pyplot()
    written = []
    for filename, draw in (("requests_per_second.png", requests_per_second),
                           ("errors.png", errors), ("bookings_confirmed.png", bookings_confirmed)):
        fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
        draw(recorded, ax)
        fig.savefig(folder / filename, dpi=100)
        plt.close(fig)
        written.append(folder / filename)
    keys = len(_http_keys(recorded)) + 3
    fig = plt.figure(figsize=(13, 2.8 * max(1, math.ceil(keys / 3))), layout="constrained")
    latency(recorded, fig)
    fig.savefig(folder / "latency.png", dpi=100)
    plt.close(fig)
    written.append(folder / "latency.png")

    fig, axes = plt.subplots(2, 2, figsize=(14, 8), layout="constrained")
    requests_per_second(recorded, axes[0][0])
    _p95(recorded, axes[0][1])
    errors(recorded, axes[1][0])
    bookings_confirmed(recorded, axes[1][1])
    fig.savefig(folder / "overview.png", dpi=100)
    plt.close(fig)
    written.append(folder / "overview.png")
    return written


def _p95(recorded: Recorded, ax: Any) -> None:
    t0 = _start(recorded)
    for key in [*_http_keys(recorded)[:8], f"{names.BOOKING} {names.CONFIRMED}"]:
        samples = [s for s in recorded.history.get(key, []) if s.requests]
        ax.plot(_t(samples, t0), [s.percentiles.get(95) or math.nan for s in samples],
                label=key)
    ax.set(title="p95 over time (10 s window)", xlabel="seconds", ylabel="ms", yscale="log")
    ax.legend(fontsize="x-small")


def write_scaling_plot(recorded: Recorded, services: dict[str, ServiceScaling], folder: Path,
                       *, falls_at: float | None) -> Path:
    """Draw scaling.png: requests and p95 latency over the services' desired and running
    tasks, healthy targets per AZ, each scaling activity marked where it happened."""
    plt = _pyplot()
    t0 = _start(recorded)
    fig, axes = plt.subplots(4, 1, figsize=(11, 12), sharex=True, layout="constrained")
    # Workers report every 3 s: a 12 s average shows the rate, not the reports' rhythm.
    requests_per_second(recorded, axes[0], window=12)
    for key in _http_keys(recorded)[:4]:
        samples = recorded.history[key]
        axes[1].plot(_t(samples, t0), [s.percentiles.get(95) for s in samples], label=key)
    axes[1].set(title="Latency of the busiest requests, p95 over locust's 10 s window",
                ylabel="ms")
    colours = dict(zip(sorted(services), ("tab:blue", "tab:orange", "tab:green", "tab:purple",
                                          "tab:brown"), strict=False))
    for name, record in sorted(services.items()):
        colour = colours.get(name, "black")
        axes[2].step([t - t0 for t, _ in record.desired], [v for _, v in record.desired],
                     where="post", linestyle="--", color=colour, label=f"{name} desired")
        axes[2].step([t - t0 for t, _ in record.running], [v for _, v in record.running],
                     where="post", color=colour, label=f"{name} running")
        for az, points in sorted(record.healthy.items()):
            axes[3].step([t - t0 for t, _ in points], [v for _, v in points], where="post",
                         color=colour, linestyle="-" if az.endswith("a") else ":",
                         label=f"{name} {az}")
        for activity in record.activities:
            for ax in axes:
                ax.axvline(activity["at"] - t0, color=colour, alpha=0.35, linewidth=1)
            axes[2].annotate(activity["description"].removeprefix("Setting desired count "),
                             (activity["at"] - t0, axes[2].get_ylim()[1]), fontsize="x-small",
                             color=colour, rotation=90, va="top")
    if falls_at is not None:
        for ax in axes:
            ax.axvline(falls_at - t0, color="grey", linestyle="-.", linewidth=1)
        axes[0].annotate("load falls", (falls_at - t0, 0), fontsize="small", color="grey")
    axes[2].set(title="ECS tasks per service (Container Insights; lines: scaling activities)",
                ylabel="tasks")
    axes[3].set(title="Healthy targets per AZ (ALB)", ylabel="targets",
                xlabel="seconds since the load started")
    for ax in axes[1:]:
        ax.legend(loc="upper right", fontsize="x-small", ncol=2)
    path = folder / "scaling.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
