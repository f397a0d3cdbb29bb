"""The index.html of a render: every widget, the alarms' states and their changes."""

from __future__ import annotations

from html import escape

from dashboards.drawing.report import Report

STYLE = """body{font-family:sans-serif;margin:1.5em;color:#222}
figure{display:inline-block;margin:.4em;vertical-align:top;border:1px solid #ddd;padding:.3em}
figcaption{font-size:.8em;max-width:40em}.empty{color:#b00}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:.2em .5em}
.ALARM{background:#fdd}.OK{background:#dfd}.INSUFFICIENT_DATA{background:#eee}"""


def _time(value: object) -> str:
    return escape(str(value).replace("+00:00", "Z"))


def html(report: Report, *, source: str) -> str:
    """Return the page for *report*."""
    seconds = round(60 * report.scale, 3)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Itinera dashboards</title>",
        f"<style>{STYLE}</style></head><body><h1>Itinera dashboards</h1>",
        f"<p>From {_time(report.start)} to {_time(report.end)}, read from {escape(source)}. "
        f"Time scale {report.scale}: a 60 s CloudWatch period is {seconds} s here.</p>",
    ]
    if report.phases:
        parts.append("<h2>The run's phases and scaling activities</h2><table><tr>"
                     "<th>phase or activity</th><th>from</th><th>to</th></tr>")
        parts += [f"<tr><td>{escape(p.name)}</td><td>{_time(p.start)}</td>"
                  f"<td>{_time(p.end)}</td></tr>" for p in report.phases]
        parts.append("</table>")
    parts.append("<h2>Alarms</h2><table><tr><th>alarm</th><th>state</th><th>reason</th></tr>")
    for alarm in report.alarms:
        parts.append(f"<tr class='{escape(alarm.state)}'><td>{escape(alarm.name)}</td>"
                     f"<td>{escape(alarm.state)}</td><td>{escape(alarm.reason)}</td></tr>")
    if not report.alarms:
        parts.append("<tr><td colspan='3'>no alarms in CloudWatch</td></tr>")
    parts.append("</table><h2>Alarm state changes</h2><table><tr><th>time</th><th>alarm</th>"
                 "<th>from</th><th>to</th><th>reason</th></tr>")
    for change in report.transitions:
        parts.append(f"<tr class='{escape(change.new)}'><td>{_time(change.time)}</td>"
                     f"<td>{escape(change.alarm)}</td><td>{escape(change.old)}</td>"
                     f"<td>{escape(change.new)}</td><td>{escape(change.reason)}</td></tr>")
    if not report.transitions:
        parts.append("<tr><td colspan='5'>none recorded</td></tr>")
    parts.append("</table>")
    for dashboard in report.dashboards:
        parts.append(f"<h2 id='{escape(dashboard.name)}'>{escape(dashboard.name)}</h2>"
                     f"<p><a href='{escape(dashboard.picture)}'>the whole dashboard as one "
                     "picture</a></p>")
        for problem in dashboard.unresolved:
            parts.append(f"<p class='empty'>unresolved: {escape(problem)}</p>")
        for widget in dashboard.widgets:
            note = "" if widget.has_data else " <span class='empty'>(no data)</span>"
            errors = "".join(f"<br><span class='empty'>{escape(e)}</span>"
                             for e in widget.errors)
            parts.append(f"<figure><img src='{escape(widget.png)}' alt='{escape(widget.title)}'>"
                         f"<figcaption>{escape(widget.title)}{note}{errors}</figcaption>"
                         "</figure>")
    parts.append("</body></html>")
    return "\n".join(parts)
