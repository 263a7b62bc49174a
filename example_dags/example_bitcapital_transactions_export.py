"""Hourly incremental export of wallet transactions, one JSON Lines file per data interval.

Each run reads the transactions created in its data interval (``data_interval_start`` included,
``data_interval_end`` excluded) and writes them to ``transactions-YYYYmmddTHH.jsonl`` (named after
the interval's start, in UTC) in the folder given by the ``export_dir`` parameter (by default
``$BITCAPITAL_EXPORT_DIR`` or ``./bitcapital-exports``). Each line is one transaction exactly as
Bitcapital answers it, each transaction once, oldest first.

The export is idempotent: rerunning an interval (a retry, a clear, a backfill) rewrites its file
with the same content, through a temporary file renamed over the old one, so a reader never sees a
half-written file.

Request volume: Bitcapital has no endpoint that lists every transaction, and a wallet's history
(``GET /wallets/{id}/transactions``) takes no date filter. The export therefore pages through the
wallets and reads each wallet's history, which comes newest first, only until it reaches a
transaction older than the interval: the paging is lazy, so the pages after that are never asked
for. With the default ``page_size`` of 100, a run costs one request per 100 wallets plus one per
wallet (more only for a wallet with over 100 transactions since the interval's start, as in a
backfill of old intervals): about 303 requests an hour, 7,300 a day, for 300 wallets. Runs go one
at a time (``max_active_runs=1``), so a backfill does not multiply that rate.

The connection ``bitcapital_default`` must point at a Bitcapital instance (or the sandbox).

Known limitation: a transaction is exported with the status it had when its interval ran; a
transaction still ``pending`` then stays ``pending`` in the file until that interval is run again.
A transaction that Bitcapital records late, with a ``createdAt`` in an interval already exported,
is missed for the same reason. Only wallets that ``GET /wallets`` lists are read: the history of a
deleted wallet is not, although its transactions with listed wallets are.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import DAG, Param, get_current_context, task

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 3.1 keeps the timetable in the core package
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[assignment]

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

DEFAULT_EXPORT_DIR = os.environ.get("BITCAPITAL_EXPORT_DIR", "bitcapital-exports")


def parse_time(text: str) -> datetime:
    """Read an ISO 8601 date such as Bitcapital's ``2026-01-01T03:00:00.000Z`` as an aware datetime.

    :raises ValueError: when ``text`` is not such a date or has no time zone.
    """
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; expected a UTC date such as 2026-01-01T03:00:00Z")
    return moment


def export_file_name(interval_start: datetime) -> str:
    """Return the name of an interval's export file, such as ``transactions-20260108T12.jsonl``."""
    return f"transactions-{interval_start.astimezone(timezone.utc):%Y%m%dT%H}.jsonl"


def transactions_in_interval(
    hook: BitcapitalHook, wallet_id: str, start: datetime, end: datetime, page_size: int
) -> Iterator[dict[str, Any]]:
    """Yield a wallet's transactions created in ``[start, end)``, reading its history only as far as needed.

    :param hook: the hook to read with.
    :param wallet_id: the wallet whose history to read.
    :param start: the interval's start, included.
    :param end: the interval's end, excluded.
    :param page_size: transactions per page of history.
    """
    for transaction in hook.paginate(f"/wallets/{wallet_id}/transactions", page_size=page_size):
        created_at = parse_time(transaction["createdAt"])
        if created_at < start:
            # The history is newest first: everything after this, on this page and the next ones,
            # is older still. Leaving the lazy pager here means those pages are never requested.
            break
        if created_at < end:
            yield transaction


def write_json_lines(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write ``rows`` as JSON Lines to ``path`` atomically: into a temporary file, then renamed over it."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            for row in rows:
                stream.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


with DAG(
    dag_id="example_bitcapital_transactions_export",
    description="Hourly JSON Lines export of the Bitcapital transactions of each data interval",
    # A data-interval timetable: each run covers the hour before it. A plain "@hourly" string makes
    # Airflow 3 use a trigger timetable, whose runs have an empty data interval.
    schedule=CronDataIntervalTimetable("@hourly", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["bitcapital", "example"],
    params={
        "export_dir": Param(DEFAULT_EXPORT_DIR, type="string", description="Folder for the export files"),
        "page_size": Param(
            100,
            type="integer",
            minimum=1,
            maximum=1000,
            description="Items per page, for the wallet list and for each wallet's history",
        ),
    },
) as dag:

    @task
    def export_transactions(interval_start: str, interval_end: str) -> dict[str, Any]:
        """Write the interval's transactions to its file and return a summary (never the rows)."""
        from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook

        start, end = parse_time(interval_start), parse_time(interval_end)
        if start >= end:
            raise ValueError(
                f"The data interval [{interval_start}, {interval_end}) is empty; run this DAG on its "
                "hourly schedule or with a logical date, which gives each run the hour before it"
            )
        params = get_current_context()["params"]
        page_size = int(params["page_size"])
        folder = Path(params["export_dir"]).expanduser()
        folder.mkdir(parents=True, exist_ok=True)

        hook = BitcapitalHook()
        found: dict[str, dict[str, Any]] = {}
        wallets = 0
        for wallet in hook.paginate("/wallets", page_size=page_size):
            wallets += 1
            for transaction in transactions_in_interval(hook, wallet["id"], start, end, page_size):
                # A transaction is in the history of its source and of each destination: keep it once.
                found.setdefault(transaction["id"], transaction)
        rows = sorted(found.values(), key=lambda row: (parse_time(row["createdAt"]), row["id"]))

        path = folder / export_file_name(start)
        write_json_lines(path, rows)
        print(f"Exported {len(rows)} transactions of [{start}, {end}) from {wallets} wallets to {path}")
        return {
            "interval_start": start.isoformat(),
            "interval_end": end.isoformat(),
            "wallets": wallets,
            "rows": len(rows),
            "path": str(path),
        }

    export_transactions(interval_start="{{ data_interval_start }}", interval_end="{{ data_interval_end }}")
