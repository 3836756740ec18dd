"""Writing the demo world: customers, campaigns and agents as CSV (timestamps
'YYYY-MM-DD HH:MM:SS'), touchpoints and tickets as zstd Parquet written block by block, with the
column order and types of :mod:`triage_core.schema`.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from triage_core.demo.world import (
    CAMPAIGN_SPECS,
    CATEGORIES,
    LANGUAGES,
    PLANS,
    SEGMENTS,
    SOURCE_PRIORITIES,
    TICKET_CHANNELS,
    TOUCH_KINDS,
    Agents,
    Campaigns,
    Customers,
    TouchBlock,
    epoch_secs,
)
from triage_core.schema import (
    AGENTS,
    CAMPAIGNS,
    CUSTOMERS,
    TICKET_STATUSES,
    TICKETS,
    TOUCHPOINTS,
    Table,
)

_ZSTD_LEVEL = 3
_ARROW_TYPES = {"VARCHAR": pa.string(), "TIMESTAMP": pa.timestamp("us"),
                "INTEGER": pa.int32(), "DOUBLE": pa.float64()}


def _timestamps(secs: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    values = (secs.astype(np.int64) * 1_000_000).astype("datetime64[us]")
    return pa.array(values, type=pa.timestamp("us"), mask=null)


def _iso(secs: np.ndarray) -> list[str]:
    """Seconds -> 'YYYY-MM-DD HH:MM:SS' strings."""
    text = np.datetime_as_string(secs.astype("datetime64[s]"), unit="s")
    return [s.replace("T", " ") for s in text.tolist()]


def _money(values: np.ndarray) -> list[str]:
    return [f"{v:.2f}" for v in values.tolist()]


def _arrow_schema(table: Table) -> pa.Schema:
    """The Parquet schema of a table: its columns, in order, with their DuckDB types."""
    return pa.schema([(c.name, _ARROW_TYPES[c.type]) for c in table.columns])


def _write_csv(path: Path, table: Table, columns: Mapping[str, Sequence[str]]) -> None:
    """Write string columns as CSV, in the schema's column order."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(table.column_names)
        w.writerows(zip(*(columns[name] for name in table.column_names), strict=True))


def write_customers(path: Path, cust: Customers) -> None:
    _write_csv(path, CUSTOMERS, {
        "customer_id": cust.ids.to_pylist(),
        "created_at": _iso(cust.created),
        "segment": np.array(SEGMENTS, dtype=object)[cust.segment].tolist(),
        "plan": np.array(PLANS, dtype=object)[cust.plan].tolist(),
        "lifetime_value": _money(cust.ltv),
    })


def write_campaigns(path: Path, camp: Campaigns) -> None:
    specs = CAMPAIGN_SPECS
    ends = [_iso(np.array([epoch_secs(c[7])]))[0] if c[7] else "" for c in specs]  # "": running
    _write_csv(path, CAMPAIGNS, {
        "campaign_id": list(camp.ids),
        "name": [c[1] for c in specs],
        "channel": [c[2] for c in specs],
        "utm_source": [c[3] for c in specs],
        "utm_medium": [c[4] for c in specs],
        "utm_campaign": [c[5] for c in specs],
        "start_at": _iso(camp.start),
        "end_at": ends,
        "spend": _money(camp.spend),
        "revenue": _money(camp.revenue),
    })


def write_agents(path: Path, agents: Agents) -> None:
    _write_csv(path, AGENTS, agents.rows)


class _ParquetFile:
    """zstd Parquet written a table at a time; dictionary encoding only where values repeat
    (faster, smaller). A context manager that closes the file."""

    def __init__(self, path: Path, table: Table, dictionary: Sequence[str]) -> None:
        self.schema = _arrow_schema(table)
        self._writer = pq.ParquetWriter(path, self.schema, compression="zstd",
                                        compression_level=_ZSTD_LEVEL,
                                        use_dictionary=list(dictionary))

    def __enter__(self) -> _ParquetFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._writer.close()


class TouchpointWriter(_ParquetFile):
    """touchpoints.parquet, one row group per block of customers."""

    def __init__(self, path: Path, cust: Customers, camp: Campaigns) -> None:
        super().__init__(path, TOUCHPOINTS, ("customer_id", "campaign_id", "kind"))
        self._customer_ids = cust.ids
        self._campaign_ids = pa.array(camp.ids, type=pa.string())
        self._kinds = pa.array(TOUCH_KINDS, type=pa.string())

    def write(self, block: TouchBlock) -> None:
        if block.owner.size:
            self._writer.write_table(pa.table([
                self._customer_ids.take(pa.array(block.owner)),
                self._campaign_ids.take(pa.array(block.campaign)),
                _timestamps(block.t), self._kinds.take(pa.array(block.kind)),
            ], schema=self.schema))


class TicketWriter(_ParquetFile):
    """tickets.parquet, one row group per chunk of tickets."""

    def __init__(self, path: Path, n: int, cust: Customers, agents: Agents) -> None:
        super().__init__(path, TICKETS, ("customer_id", "channel", "status", "agent_id",
                                         "category", "language", "source_priority"))
        self._width = max(7, len(str(n)))
        self._customer_ids = cust.ids
        self._agent_ids = agents.ids
        self._channels = pa.array(TICKET_CHANNELS, type=pa.string())
        self._statuses = pa.array(TICKET_STATUSES, type=pa.string())
        self._categories = pa.array(CATEGORIES, type=pa.string())
        self._languages = pa.array(LANGUAGES, type=pa.string())
        self._priorities = pa.array(SOURCE_PRIORITIES, type=pa.string())

    def write(self, lo: int, hi: int, ev: dict[str, np.ndarray], hd: dict[str, np.ndarray],
              subjects: list[str], bodies: list[str]) -> None:
        """Tickets lo..hi-1: their events, handling and rendered text."""
        sl = slice(lo, hi)
        agent = hd["agent"][sl]
        label = hd["label"][sl]
        csat = hd["csat"][sl]
        self._writer.write_table(pa.table([
            pa.array([f"TK{i:0{self._width}d}" for i in range(lo + 1, hi + 1)],
                     type=pa.string()),
            _timestamps(ev["t"][sl]),
            self._customer_ids.take(pa.array(ev["cust"][sl])),
            self._channels.take(pa.array(hd["channel"][sl])),
            pa.array(subjects, type=pa.string()),
            pa.array(bodies, type=pa.string()),
            self._statuses.take(pa.array(hd["status"][sl])),
            _timestamps(hd["first_resp"][sl], hd["first_resp"][sl] < 0),
            _timestamps(hd["resolved"][sl], hd["resolved"][sl] < 0),
            self._agent_ids.take(pa.array(agent, mask=agent < 0)),
            pa.array(csat.astype(np.int32), type=pa.int32(), mask=csat == 0),
            self._categories.take(pa.array(label, mask=label < 0)),
            self._languages.take(pa.array(hd["lang"][sl])),
            self._priorities.take(pa.array(hd["prio"][sl])),
        ], schema=self.schema))
