"""What every tier shares: the tier markers, and the real MariaDB and Redis for the tiers
that need them.

A test's tier is its folder (tests/unit, tests/integration, tests/e2e, tests/infra); the
booking page's browser tests live with the e2e tests, share their stack and are marked
`browser` instead. `make test-<tier>` runs one tier, `make test` runs them all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
TIERS = ("unit", "integration", "e2e", "infra")
# Several runs share one MariaDB: each may name its own inventory test database.
TEST_INVENTORY_DB = os.environ.get("ITINERA_TEST_INVENTORY_DB", "itinera_test_inventory")
TEST_DATABASES = ("itinera_e2e", TEST_INVENTORY_DB)


def tier_of(item: pytest.Item) -> str:
    """Return the tier of *item*: its folder under tests/, or `browser` when marked so."""
    folder = item.path.relative_to(TESTS).parts[0]
    if folder not in TIERS:
        raise pytest.UsageError(f"{item.nodeid}: tests live in one of tests/{{{','.join(TIERS)}}}")
    if item.get_closest_marker("browser") is not None:
        return "browser"
    return folder


# `make test` runs two lanes side by side (pytest-xdist, `-n 2`; one lane a worker, each lane
# in collection order). The stack lane holds the session stack's tests, those that judge
# latency or scaling (autoscaling, fault proxies, the load run) among them, so no two of them
# overlap; the other lane holds unit, integration and infra tests and the end-to-end modules
# with stacks of their own. The game days are among those: their module comes early in the
# other lane, beside the session stack's contract and correctness tests, not its latency or
# scaling ones, which come later; and their hypotheses' bounds are loose against what they
# observe (a p95 of about 370 ms against 1,000 ms). `sam build` (CPU for a minute, no stack)
# runs in the stack lane instead, so the two lanes take about as long (docs/performance.md).
STACK_LANE, OTHER_LANE = "stack", "other"
OTHER_LANE_E2E = frozenset({"test_abuse_limits.py", "test_iam_enforcement.py",
                            "test_local_stack_lifecycle.py", "test_gameday.py"})
STACK_LANE_OTHERS = frozenset({"tests/infra/test_sam_build.py"})


def lane_of(nodeid: str) -> str:
    """Return the lane of the test *nodeid* (`tests/<tier>/.../test_x.py::name`)."""
    path = nodeid.split("::", 1)[0]
    parts = path.split("/")
    if parts[:2] == ["tests", "e2e"] and parts[-1] not in OTHER_LANE_E2E:
        return STACK_LANE
    return STACK_LANE if path in STACK_LANE_OTHERS else OTHER_LANE


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Hand xdist's workers whole lanes: xdist's scope scheduling, with the lane as the scope
    (two lanes, two workers: one lane each)."""
    from xdist.scheduler import LoadScopeScheduling

    class LaneScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return lane_of(nodeid)

    return LaneScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its tier, so `-m unit` (and the others) select by cost."""
    for item in items:
        tier = tier_of(item)
        if tier != "browser":
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def services() -> Iterator[None]:
    """Make MariaDB and Redis answer (starting private ones if needed) for the whole run.

    Only the integration, e2e and infra tiers ask for this; unit tests reach no server.
    """
    from localaws import deps

    state = ROOT / ".local"
    mysql_cfg = deps.mysql_config_from_env(os.environ)
    mysql_server, lines = deps.ensure_mysql(mysql_cfg, state_dir=state,
                                            databases=TEST_DATABASES)
    redis_server, more = deps.ensure_redis(deps.redis_config_from_env(os.environ),
                                           state_dir=state)
    for line in lines + more:
        print(line)
    os.environ.update({"DB_HOST": mysql_cfg.host, "DB_PORT": str(mysql_cfg.port),
                       "DB_USER": mysql_cfg.user, "DB_PASSWORD": mysql_cfg.password})
    yield
    for server in (redis_server, mysql_server):
        if server is not None:
            server.stop()
