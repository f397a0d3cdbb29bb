"""How a run is set up: the catalog contract, the travellers of each scenario, locust's flags."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

from itinera.api.admin import NewFlight
from loadtests.catalog import Catalog, Route, Stay, flash_flight_spec
from loadtests.runner import RunOptions, locust_command, require_loopback
from loadtests.scenarios import SCENARIOS, scenario

LOADTESTS = Path(__file__).resolve().parents[3] / "loadtests"


def _classes(path: Path) -> set[str]:
    return {n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ClassDef)}


def _imported(path: Path) -> set[str]:
    return {alias.name for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, ast.ImportFrom) for alias in n.names}


def test_every_scenarios_travellers_exist_and_locust_can_find_them() -> None:
    """Each traveller a scenario names is a class in travellers.py imported by the locustfile.

    (Read from the source: importing locust here would monkey-patch the test process.)
    """
    defined = _classes(LOADTESTS / "travellers.py")
    imported = _imported(LOADTESTS / "locustfile.py")
    for s in SCENARIOS.values():
        assert set(s.travellers) <= defined & imported, s.name


def test_the_flash_sale_flight_is_a_valid_admin_request() -> None:
    """The flight the flash sale adds passes the admin API's own model: one small cabin."""
    spec = NewFlight.model_validate(flash_flight_spec(day=date(2026, 12, 1), number=1234567))
    assert [(c.cabin, c.capacity) for c in spec.cabins] == [("economy", 30)]


def test_the_catalog_round_trips_through_its_file() -> None:
    """What `itinera load` writes to catalog.json is what every locust process reads."""
    catalog = Catalog(routes=[Route(origin="LHR", destination="JFK", date="2026-12-01",
                                    flight_ids=["1", "2"])],
                      stays=[Stay(city="London", iata="LHR", check_in="2026-12-02",
                                  check_out="2026-12-04", hotel_ids=["7"])],
                      city_of={"LHR": "London"}, flash_flight_id="99")
    assert Catalog.from_json(catalog.to_json()) == catalog


def _options(**more: object) -> RunOptions:
    base: dict[str, object] = dict(
        scenario=scenario("booking"), users=50, duration_s=60, shape="ramp", rate=None,
        processes=0, host="http://127.0.0.1:48580", state_dir=Path("/state"),
        report_root=Path("/reports"), thresholds_path=Path("t.yaml"))
    return RunOptions(**{**base, **more})  # type: ignore[arg-type]


def test_locust_runs_headless_with_full_history_and_the_scenarios_travellers() -> None:
    """Headless, CSVs with full history, the HTML report, and only the scenario's users."""
    command = locust_command(_options(), folder=Path("/r"), run_id="run1")
    assert {"--headless", "--csv-full-history", "--only-summary"} <= set(command)
    assert command[command.index("--csv") + 1] == "/r/locust"
    assert command[command.index("--html") + 1] == "/r/report.html"
    assert command[-4:] == ["Browser", "Booker", "TripBooker", "CardTrouble"]
    assert "--processes" not in command


def test_worker_processes_get_a_master_port_of_their_own() -> None:
    """With --processes, master and workers agree on a free port, not locust's default 5557."""
    command = locust_command(_options(processes=2), folder=Path("/r"), run_id="run1")
    port = command[command.index("--master-bind-port") + 1]
    assert command[command.index("--master-port") + 1] == port != "5557"
    assert command[command.index("--processes") + 1] == "2"


@pytest.mark.parametrize("host", ["http://10.0.0.5:8080", "https://api.itinera.example"])
def test_a_local_run_refuses_any_host_but_this_machine(host: str) -> None:
    """Load from one machine goes to 127.0.0.1 only; a deployed stack is loaded from AWS."""
    with pytest.raises(SystemExit, match="--target aws"):
        require_loopback(host)
    require_loopback("http://127.0.0.1:8080")
