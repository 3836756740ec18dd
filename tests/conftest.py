"""Shared fixtures: small, hand-made data sets written as real files, real DuckDB stores, and the
one demo world of the suite (tests/_world.py), built once per session and copied by tests that
write."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from _world import build_world, copy_db

# Before any test module imports skops itself: skops is then imported the way every triage
# process imports it (registry._import_skops, without its list of every scikit-learn
# estimator), so the trusted-type tests see what users' processes do, whatever the test order.
from triage_core.models import registry
from triage_core.store import Store

registry._import_skops()

CUSTOMERS_CSV = """customer_id,created_at,segment,plan,lifetime_value
C1,2026-01-01,consumer,basic,120.5
C2,2026-01-02T10:00:00Z,vip,pro,9000
C3,2026-01-03 08:30:00,smb,basic,450
"""

CAMPAIGNS_CSV = (
    "campaign_id,name,channel,utm_source,utm_medium,utm_campaign,start_at,end_at,spend,revenue\n"
) + """K1,Spring sale,email,newsletter,email,spring,2026-01-10,2026-02-10,1000,5000
K2,App launch,paid_social,facebook,cpc,app5,2026-01-20,,2000,3000
"""

TICKETS_CSV = """ticket_id,created_at,customer_id,channel,subject,body,status,csat,category
T1,2026-02-01 10:00:00,C1,email,Refund please,"I was charged twice.
Please help",open,,
T2,2026-02-02 10:00:00,C2,Web Form,Login,cannot log in,Hold,4,account_access
T3,2026-02-03 11:00:00,C3,chat,Coupon,my code SPRING does not work,solved,5,coupon_promo
"""

TOUCHPOINTS_CSV = """customer_id,campaign_id,touched_at,kind
C1,K1,2026-01-15 09:00:00,click
C1,K2,2026-01-25 09:00:00,impression
C3,K1,2026-01-16 12:00:00,open
"""

AGENTS_CSV = """agent_id,name,team,skills,languages,capacity,senior
A1,Ana,billing_team,billing;refund,en;es,10,0
A2,Ben,tech_support,app_crash,en,8,0
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    for name, text in {
        "customers.csv": CUSTOMERS_CSV,
        "campaigns.csv": CAMPAIGNS_CSV,
        "tickets.csv": TICKETS_CSV,
        "touchpoints.csv": TOUCHPOINTS_CSV,
        "agents.csv": AGENTS_CSV,
    }.items():
        (d / name).write_text(text, encoding="utf-8")
    return d


@pytest.fixture
def store():
    s = Store(":memory:")
    yield s
    s.close()


@pytest.fixture
def loaded_store(store: Store, data_dir: Path) -> Store:
    store.import_directory(data_dir)
    return store


# -- the demo world (tests/_world.py) ------------------------------------------------------------


@pytest.fixture(scope="session")
def built_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_world(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="session")
def world_db(built_world: tuple[Path, Path]) -> Path:
    """The demo world imported, model version 1 trained, every ticket triaged. Never opened for
    writing: read it with ``Store(path, read_only=True)`` (or ``world``), copy it to write."""
    path = built_world[0]
    assert not Path(f"{path}.wal").exists()
    return path


@pytest.fixture(scope="session")
def world_files(built_world: tuple[Path, Path]) -> Path:
    """The demo world's five files (customers, campaigns, agents, tickets, touchpoints)."""
    return built_world[1]


@pytest.fixture(scope="session")
def world(world_db: Path) -> Iterator[Store]:
    """The demo world, open read-only for tests that only read."""
    with Store(world_db, read_only=True) as s:
        yield s


@pytest.fixture
def world_copy(world_db: Path, tmp_path: Path) -> Path:
    """A private copy of the demo world's database, for a test that writes."""
    return copy_db(world_db, tmp_path, "world_copy.duckdb")


@pytest.fixture
def page_as_main(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[types.ModuleType, Path]:
    """``__main__`` as `triage serve` has it once the dashboard ran (Streamlit runs each page
    as ``__main__``): here a script that only leaves a file when it runs. Returns the module
    and that file's path; a process that imports the parent's ``__main__`` creates it."""
    ran = tmp_path / "ran"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(ran)!r}, 'w').write('ran')\n", encoding="utf-8")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    return page, ran
