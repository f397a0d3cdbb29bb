"""Run the schemathesis CLI from its own virtualenv against a stack and summarise its findings."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = ROOT / ".venv" / "schemathesis" / "bin" / "schemathesis"
POLICY = ROOT / "tests" / "contract" / "schemathesis.toml"
REPORTS = ROOT / "reports" / "contract"
# Safety net only: the policy's max-examples and max-steps bound a run to well under this.
RUN_TIMEOUT = float(os.environ.get("ITINERA_CONTRACT_TIMEOUT", "120"))
# Airports and cities no other end-to-end test books (helpers.ROUTES), on days after the
# ones they search: holds the fuzzer makes cannot disturb their seat counts.
AIRPORTS = ("MAD", "FCO", "SFO", "ORD", "HND", "SYD", "DXB")
CITIES = ("Madrid", "Rome", "Chicago", "Sydney", "Tokyo", "Dubai")
DAYS_AHEAD = range(8, 12)
TEST_CARDS = ("4242424242424242", "4000000000000002", "4000000000000119")


@dataclass(frozen=True)
class Dictionary:
    """Real values from the running catalog that the fuzzer mixes into what it generates."""

    name: str
    values: Sequence[str]
    parameters: Sequence[str]  # schemathesis keys: "query.origin", "body.items[*].flight_id"
    probability: float = 0.8


@dataclass(frozen=True)
class Run:
    """What one schemathesis run left: exit code, console output and its reports."""

    name: str
    code: int
    output: str
    directory: Path
    timed_out: bool
    command: str  # to rerun by hand; header values (the token) are left as $TOKEN

    @property
    def junit(self) -> Path:
        """Return the JUnit report's path."""
        return self.directory / "junit.xml"

    @property
    def ndjson(self) -> Path:
        """Return the event stream's path."""
        return self.directory / "events.ndjson"


def _get(url: str, path: str, **query: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}{path}?{urllib.parse.urlencode(query)}",
                                timeout=10) as resp:
        return dict(json.load(resp))


def catalog_dictionaries(url: str) -> list[Dictionary]:
    """Return real airports, cities, dates, flight and hotel ids, looked up through search."""
    today = datetime.now(UTC).date()
    dates = [(today + timedelta(days=n)).isoformat() for n in DAYS_AHEAD]
    flights = {item["id"] for origin in AIRPORTS for destination in AIRPORTS[:3]
               if origin != destination
               for item in _get(url, "/v1/flights", origin=origin, destination=destination,
                                date=dates[0])["items"]}
    hotels = {item["id"]: [room["code"] for room in item["room_types"]] for city in CITIES
              for item in _get(url, "/v1/hotels", city=city, check_in=dates[0],
                               check_out=dates[1])["items"]}
    rooms = sorted({code for codes in hotels.values() for code in codes})
    return [
        Dictionary("airports", AIRPORTS, ["query.origin", "query.destination"]),
        Dictionary("cities", CITIES, ["query.city"]),
        Dictionary("dates", dates, ["query.date", "query.check_in", "query.check_out",
                                    "body.items[*].check_in", "body.items[*].check_out"]),
        Dictionary("flights", sorted(flights), ["path.flight_id", "body.items[*].flight_id"]),
        Dictionary("hotels", sorted(hotels), ["path.hotel_id", "body.items[*].hotel_id"]),
        Dictionary("room_types", rooms, ["body.items[*].room_type"]),
        Dictionary("cards", TEST_CARDS, ["body.payment.card_number"]),
    ]


def _toml_string(value: str) -> str:
    # A JSON string of printable ASCII is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=True)


def effective_config(policy: str, dictionaries: Sequence[Dictionary]) -> str:
    """Return the policy with the test data appended as dictionaries bound to parameters."""
    lines = [policy.rstrip(), "", "# Test data from the running catalog (written by the test)."]
    for d in dictionaries:
        lines += [f"[dictionaries.{d.name}]",
                  f"values = [{', '.join(_toml_string(v) for v in d.values)}]", ""]
    lines.append("[parameters]")
    for d in dictionaries:
        for key in d.parameters:
            lines.append(f"{_toml_string(key)} = {{ dictionary = {_toml_string(d.name)}, "
                         f"probability = {d.probability} }}")
    return "\n".join(lines) + "\n"


def run(name: str, url: str, config: str, *, headers: Mapping[str, str] | None = None,
        extra: Sequence[str] = ()) -> Run:
    """Run `schemathesis run` over the document at *url*, reports in reports/contract/NAME."""
    directory = REPORTS / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    config_path = directory / "schemathesis.toml"
    config_path.write_text(config)
    args = [str(SCHEMATHESIS), "--config-file", str(config_path), "run", f"{url}/v1/openapi.json",
            "--no-color", "--report", "junit,ndjson",
            "--report-junit-path", str(directory / "junit.xml"),
            "--report-ndjson-path", str(directory / "events.ndjson")]
    if seed := os.environ.get("ITINERA_CONTRACT_SEED"):
        args += ["--seed", seed]
    shown = list(args)
    for header, value in (headers or {}).items():
        args += ["--header", f"{header}: {value}"]
        scheme = value.split(" ", 1)[0] + " " if " " in value else ""
        shown += ["--header", f'"{header}: {scheme}$TOKEN"']
    args += list(extra)
    shown += list(extra)
    # Its own working directory, so nothing the tool might write lands in the repository.
    proc = subprocess.Popen(args, cwd=directory, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    timed_out = False
    try:
        output, _ = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        # SIGINT lets schemathesis stop its workers and still write its reports.
        timed_out = True
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    (directory / "output.txt").write_text(output)
    return Run(name=name, code=proc.returncode, output=output, directory=directory,
               timed_out=timed_out, command=" ".join(shown).replace(f"{ROOT}/", ""))


def findings(junit: Path) -> list[str]:
    """Return one line per failing operation and check, from the JUnit report."""
    if not junit.exists():
        return []
    lines = []
    for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314 - our own report
        for failure in [*case.iter("failure"), *case.iter("error")]:
            text = failure.text or ""
            checks = sorted({line.strip()[2:] for line in text.splitlines()
                             if line.strip().startswith("- ")})
            curls = [line.strip() for line in text.splitlines()
                     if line.strip().startswith("curl ")]
            lines.append(f"{case.get('name')}: {'; '.join(checks) or failure.get('message')}"
                         + (f"\n      {curls[0]}" if curls else ""))
    return lines


def explain(result: Run, *, limit: int = 12000) -> str:
    """Return what a developer needs to act on a failed run: findings, then the tool's report."""
    index = findings(result.junit)
    console = result.output
    marks = [i for i in (console.find(" FAILURES ="), console.find(" ERRORS =")) if i != -1]
    # From the start of the first section line ("=== FAILURES ===") to the end.
    details = console[console.rfind("\n", 0, min(marks)) + 1:] if marks else console
    if len(details) > limit:
        details = details[:limit] + f"\n... cut; the whole output is in {result.directory}"
    head = (f"schemathesis ({result.name}) exited {result.code}"
            + (f" after {RUN_TIMEOUT:.0f}s (interrupted)" if result.timed_out else "")
            + f"; reports in {result.directory.relative_to(ROOT)}\n")
    listing = "\n".join(f"  - {line}" for line in index) or "  (no failure in the JUnit report)"
    rerun = (f"rerun: {result.command}\n(curl lines say [Filtered] for the token: mint one "
             "with `.venv/bin/itinera token --sub NAME` for a `make run` stack)\n")
    return f"{head}findings:\n{listing}\n{rerun}\n{details}"


def applied_links(ndjson: Path) -> set[tuple[str, str]]:
    """Return (source, target) operations of the links the stateful phase followed."""
    followed: set[tuple[str, str]] = set()
    if not ndjson.exists():
        return followed
    with ndjson.open() as events:
        for line in events:
            if '"ScenarioFinished"' not in line:
                continue
            scenario = json.loads(line)["ScenarioFinished"]
            for case in scenario.get("recorder", {}).get("cases", {}).values():
                transition = case.get("transition")
                if case.get("is_transition_applied") and transition:
                    # "POST /v1/holds -> [201] Name -> GET /v1/holds/{hold_id}"
                    source, _, rest = transition["id"].partition(" -> ")
                    followed.add((source, rest.rsplit(" -> ", 1)[-1]))
    return followed
