"""CSV export of the filtered visit log (UTF-8 with a BOM, so spreadsheet programs read Chinese names)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

COLUMNS = (
    ("visit_id", lambda v: v["id"]),
    ("rep", lambda v: v.get("rep_name") or v.get("rep_id")),
    ("rep_id", lambda v: v.get("rep_id")),
    ("account", lambda v: (v.get("account") or {}).get("name")),
    ("account_id", lambda v: v.get("account_id")),
    ("planned_start", lambda v: v.get("planned_start")),
    ("planned_end", lambda v: v.get("planned_end")),
    ("status", lambda v: v.get("status")),
    ("checkin_at", lambda v: v.get("checkin_at")),
    ("checkout_at", lambda v: v.get("checkout_at")),
    ("dwell_min", lambda v: None if v.get("dwell_s") is None else round(v["dwell_s"] / 60, 1)),
    ("distance_m", lambda v: v.get("distance_m")),
    ("verdict", lambda v: v.get("verdict")),
    ("verdict_reasons", lambda v: ";".join(r.get("code", "") for r in v.get("verdict_reasons") or [] if isinstance(r, dict))),
    ("outcome", lambda v: v.get("outcome")),
    ("notes", lambda v: v.get("notes")),
)
#: A manager's review mark (``reviews.py``), for viewers who see marks: who, when, the note, and whether it still
#: covers the visit's verdict (``false``: the server reclassified the check-in after the mark).
REVIEW_COLUMNS = (
    ("reviewed_by", lambda v: v["review"] and (v["review"]["by_name"] or v["review"]["by"])),
    ("reviewed_at", lambda v: v["review"] and v["review"]["at"]),
    ("review_note", lambda v: v["review"] and v["review"]["note"]),
    ("review_current", lambda v: v["review"] and ("true" if v["review"]["current"] else "false")),
)


def _safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas in free text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def csv_chunks(chunks: Iterable[list[dict[str, Any]]], hidden: frozenset[str] = frozenset(), *, reviews: bool = False) -> Iterator[str]:
    """The CSV text, header first, one piece per chunk of visits (hidden fields' columns left out; review marks
    when ``reviews``: managers who may see the verdict)."""
    columns = [(name, get) for name, get in COLUMNS if name not in hidden] + (list(REVIEW_COLUMNS) if reviews else [])
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow([name for name, _ in columns])
    yield buf.getvalue()
    for chunk in chunks:
        buf = io.StringIO()
        writer = csv.writer(buf)
        for visit in chunk:
            writer.writerow([_safe(get(visit)) for _, get in columns])
        yield buf.getvalue()


__all__ = ["COLUMNS", "REVIEW_COLUMNS", "csv_chunks"]
