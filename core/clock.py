"""The one clock every step reads, so that timestamps agree in form across the warehouse,
the journal and the logs."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    """Naive UTC with microseconds: what DuckDB TIMESTAMP and Power BI expect."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
