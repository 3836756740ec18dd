"""Run :func:`triage_core.triage.pipeline.triage_batch` somewhere else: a Dask cluster or PySpark.

``triage_batch`` is pure (a pandas batch in, a pandas batch of results out), so scaling out only
moves batches: the workers compute, the caller keeps writing the results to DuckDB.

- Dask: :func:`run_dask` (used by ``triage score --engine dask --scheduler ADDRESS``).
- PySpark: ``df.mapInPandas(spark_map_in_pandas(models), RESULT_SCHEMA)``, or the Arrow
  variant ``df.mapInArrow(spark_map_in_arrow(models), RESULT_SCHEMA)``.

Dask and PySpark are optional (``pip install 'ticket-triage[dask]'``); they are imported only
inside the functions that need them, so ``triage_core`` imports without them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pandas as pd

from triage_core.errors import TriageError
from triage_core.triage.pipeline import RESULT_COLUMNS, TriageModels, triage_batch

if TYPE_CHECKING:
    import pyarrow as pa

CONNECT_TIMEOUT = 10  # seconds to reach the Dask scheduler before giving up

# Spark SQL types of the result columns (pipeline.RESULT_COLUMNS). text_hash is DuckDB's unsigned
# 64-bit hash (UBIGINT): Spark has no unsigned long, and a signed long would silently wrap half of
# the hashes to negative numbers, so it is decimal(20,0) - the type Spark itself reads a Parquet
# UINT64 column as.
_SPARK_TYPES = {
    "ticket_id": "string",
    "text_hash": "decimal(20,0)",
    "category": "string",
    "category_confidence": "double",
    "category_top": "string",
    "sentiment": "double",
    "sentiment_label": "string",
    "severity": "int",
    "severity_reasons": "string",
    "model_version": "int",
}
RESULT_SCHEMA = ", ".join(f"{c} {_SPARK_TYPES[c]}" for c in RESULT_COLUMNS)
"""The Spark DDL schema of :func:`triage_batch` results, for ``mapInPandas``/``mapInArrow``."""


# -- Dask ---------------------------------------------------------------------------------------

def _connect(scheduler: str | None) -> Any:
    """A ``distributed.Client`` for ``scheduler``, or a one-line :class:`TriageError`."""
    if not scheduler:
        raise TriageError("the dask engine needs a scheduler address: --scheduler "
                          "tcp://HOST:8786 (start one with 'dask scheduler')")
    try:
        from distributed import Client
    except ImportError:
        raise TriageError("the dask engine needs dask: pip install 'ticket-triage[dask]'"
                          ) from None
    # Ask who answers first: a Client that fails on anything but a refused or timed-out
    # connection (a bad scheme, a server that is not Dask) is left half-open and hangs
    # the exit for 20 s. distributed's connect timeout comes first; ours ends a handshake that
    # never comes.
    probe = asyncio.wait_for(_identity(scheduler), CONNECT_TIMEOUT + 2)
    try:
        # in a thread of its own: the caller may already run an event loop (e.g. Jupyter)
        with ThreadPoolExecutor(1) as pool:
            kind = pool.submit(asyncio.run, probe).result()
    except Exception as exc:
        if "ConnectionRefusedError" in str(exc.__cause__):  # retried until the timeout
            reason = "connection refused (is 'dask scheduler' running there?)"
        elif str(exc).startswith("Timed out"):
            reason = f"no answer within {CONNECT_TIMEOUT} s"
        elif isinstance(exc, TimeoutError):
            reason = "something listens there but gives no Dask answer (the dashboard port?)"
        elif isinstance(exc, OSError | ValueError):  # unknown host, bad address
            reason = str(exc).splitlines()[0]
        else:  # garbage from a server that is not Dask
            reason = "the server there does not speak the Dask protocol"
        raise TriageError(f"cannot connect to the Dask scheduler at {scheduler}: {reason}"
                          ) from None
    if kind != "Scheduler":
        raise TriageError(f"{scheduler} is a Dask {kind or 'server'}, not the scheduler; "
                          "give the address 'dask scheduler' printed (port 8786 by default)")
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except OSError as exc:  # gone since the probe; the Client closed itself
        raise TriageError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}"
                          ) from None


async def _identity(address: str) -> str | None:
    """The server type (``Scheduler``, ``Worker``, ...) that answers at ``address``."""
    from distributed.comm import connect
    from distributed.security import Security

    comm = await connect(address, timeout=CONNECT_TIMEOUT,
                         **Security().get_connection_args("client"))
    try:
        await comm.write({"op": "identity", "reply": True})
        reply = await comm.read()
    finally:
        comm.abort()
    return reply.get("type") if isinstance(reply, dict) else None


def run_dask(batches: list[pd.DataFrame], models: TriageModels,
             scheduler: str | None) -> Iterator[pd.DataFrame]:
    """Triage ``batches`` on the Dask cluster at ``scheduler``; yield results in input order.

    Connects at once (a missing or unreachable scheduler raises :class:`TriageError` here,
    within ``CONNECT_TIMEOUT`` seconds), sends the models to every worker once, scatters the
    batches and maps :func:`triage_batch` over them. The client closes when the returned
    iterator is exhausted or closed. Workers need ``ticket-triage`` installed (same version).
    """
    client = _connect(scheduler)
    try:
        on_workers = client.scatter(models, broadcast=True, hash=False)
        data = client.scatter(list(batches), hash=False)
        futures = client.map(triage_batch, data, models=on_workers, pure=False)
    except BaseException as exc:
        client.close()
        if isinstance(exc, TimeoutError) and "No valid workers" in str(exc):
            raise TriageError(f"the Dask scheduler at {scheduler} has no workers (waited "
                              f"{CONNECT_TIMEOUT} s); start some with 'dask worker {scheduler}'"
                              ) from None
        # a worker without triage_core cannot unpickle the models; distributed re-raises
        # that as a plain Exception carrying the original message
        if isinstance(exc, Exception) and "No module named" in str(exc):
            raise TriageError(f"a Dask worker of {scheduler} cannot load the models "
                              f"({str(exc).splitlines()[0]}): install ticket-triage, the same "
                              "version as here, on every worker") from None
        raise
    return _gather_in_order(client, futures)


def _gather_in_order(client: Any, futures: list[Any]) -> Iterator[pd.DataFrame]:
    try:
        for i, fut in enumerate(futures):
            result = fut.result()
            futures[i] = None  # let the cluster forget a batch once it is handed over
            fut.release()
            yield result
    finally:
        client.close()


# -- PySpark and Arrow ----------------------------------------------------------------------------

def _spark_frame(results: pd.DataFrame) -> pd.DataFrame:
    """Results as Spark wants them for :data:`RESULT_SCHEMA`: text_hash as exact decimals."""
    import pyarrow as pa

    exact = pa.decimal128(20, 0)
    col = results["text_hash"]
    if pd.api.types.is_integer_dtype(col.dtype):  # uint64 from DuckDB's hash()
        decimals = pa.array(col.to_numpy()).cast(exact)
    else:  # Decimal objects (Spark's decimal(20,0) input), floats of a nullable long, None
        decimals = pa.array([None if pd.isna(v) else int(v) for v in col], type=exact)
    return results.assign(text_hash=decimals.to_pandas())


def spark_map_in_pandas(models: TriageModels
                        ) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """A function for ``spark_df.mapInPandas(fn, RESULT_SCHEMA)``.

    The input rows need ticket_id, subject and body (optional: label, text_hash as a number,
    e.g. decimal(20,0)); ``models`` (from :func:`pipeline.load_models`) travel to the
    executors inside the function.
    """

    def triage_partition(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            yield _spark_frame(triage_batch(frame, models))

    return triage_partition


def result_arrow_schema() -> pa.Schema:
    """The Arrow schema Spark expects for :data:`RESULT_SCHEMA` (e.g. from ``mapInArrow``)."""
    import pyarrow as pa

    arrow = {"string": pa.string(), "double": pa.float64(), "int": pa.int32(),
             "decimal(20,0)": pa.decimal128(20, 0)}
    return pa.schema([(c, arrow[_SPARK_TYPES[c]]) for c in RESULT_COLUMNS])


def to_arrow_batch(fn: Callable[[pd.DataFrame], pd.DataFrame]
                   ) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """Turn a pandas batch function returning results into an Arrow one.

    The returned function maps record batches to record batches of :func:`result_arrow_schema`
    (the form of ``spark_df.mapInArrow`` and of Arrow-native engines); the conversion is
    checked, so a value that does not fit its column raises instead of wrapping around.
    """
    import pyarrow as pa

    schema = result_arrow_schema()

    def arrow_fn(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            out = _spark_frame(fn(batch.to_pandas()))
            yield pa.RecordBatch.from_pandas(out[schema.names], schema=schema,
                                             preserve_index=False)

    return arrow_fn


def spark_map_in_arrow(models: TriageModels
                       ) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """A function for ``spark_df.mapInArrow(fn, RESULT_SCHEMA)`` (PySpark >= 3.3)."""

    def one(frame: pd.DataFrame) -> pd.DataFrame:
        return triage_batch(frame, models)

    return to_arrow_batch(one)
