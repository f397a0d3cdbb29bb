"""With fault proxies on, each AZ's tasks reach MariaDB, Redis and moto through their AZ's proxy,
and a fault set on one AZ's proxies reaches that AZ's tasks only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from localaws.faults import Fault, FaultControl
from localaws.faults import plan as fault_plan
from localaws.stack import LocalStack
from tests.stacks import own_stack
from tests.waiting import eventually


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A local stack whose tasks reach their dependencies through the fault proxies."""
    with own_stack("faults", tmp_path_factory.mktemp("faults-stack"),
                   fault_proxies=True) as running:
        yield running


def _search(day_offset: int) -> dict[str, str]:
    day = (datetime.now(UTC).date() + timedelta(days=day_offset)).isoformat()
    return {"origin": "LHR", "destination": "JFK", "date": day, "passengers": "1",
            "cabin": "economy"}


async def _seconds(http: aiohttp.ClientSession, url: str, params: dict[str, str]
                   ) -> tuple[int, float]:
    started = time.perf_counter()
    async with http.get(f"{url}/v1/flights", params=params) as resp:
        await resp.read()
        return resp.status, time.perf_counter() - started


async def test_a_delay_on_one_az_slows_that_azs_tasks_only(proxied: LocalStack) -> None:
    """GIVEN 300 ms on az-a's MariaDB and Redis, WHEN each AZ's inventory task searches a
    day nobody searched (cache miss: Redis, then MySQL), THEN az-a answers at least 300 ms
    slower than az-b, and once the fault is lifted az-a is fast again."""
    cfg = proxied.config
    # One running inventory task per AZ, as the ECS stand-in placed them.
    tasks = proxied.scheduler.snapshot()["inventory"]["tasks"].values()
    task = {az: next(f"http://127.0.0.1:{t['port']}" for t in tasks
                     if t["az"] == az and t["state"] == "RUNNING") for az in ("az-a", "az-b")}
    control_url = f"http://127.0.0.1:{fault_plan.control_port(cfg)}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        control = FaultControl(control_url, http)
        for az, offset in (("az-a", 3), ("az-b", 4)):  # warm each task's pools
            status, _ = await _seconds(http, task[az], _search(offset))
            assert status == 200
        for dependency in ("mariadb", "redis"):
            await control.apply(Fault(mode="delay", delay_ms=300), dependency=dependency,
                                az="az-a")
        try:
            status_a, slow = await _seconds(http, task["az-a"], _search(5))
            status_b, fast = await _seconds(http, task["az-b"], _search(6))
        finally:
            assert sorted(await control.clear())
        assert (status_a, status_b) == (200, 200)
        assert slow - fast >= 0.3
        status, again = await _seconds(http, task["az-a"], _search(7))
        assert status == 200 and again < slow - 0.2


async def test_a_cut_on_every_az_fails_search_then_it_recovers(proxied: LocalStack) -> None:
    """GIVEN MariaDB and Redis cut for 3 s in both AZs (a failover of both), WHEN searching
    an uncached day, THEN inventory fails fast instead of answering, and after the cut search
    answers 200 again without anyone lifting the fault."""
    cfg = proxied.config
    inventory = f"http://127.0.0.1:{cfg.inventory_port}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        control = FaultControl(f"http://127.0.0.1:{fault_plan.control_port(cfg)}", http)
        await control.apply(Fault(mode="cut", duration_s=3), dependency="mariadb")
        await control.apply(Fault(mode="cut", duration_s=3), dependency="redis")
        status, took = await _seconds(http, inventory, _search(9))
        assert status >= 500 and took < 3

        async def served() -> bool:
            status, _ = await _seconds(http, inventory, _search(10))
            return status == 200

        await eventually(served, within=30, what="search served again after the cut")
        assert {p["fault"]["mode"] for p in await control.status()} == {"pass"}
