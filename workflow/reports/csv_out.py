"""The ledger's detail rows as one csv table, for Excel and for scripts.

UTF-8 with a BOM: without it Excel on a Chinese Windows opens the file as GBK and every
department name turns to mojibake. Dates are ISO (2021-09-30), which Excel and scripts
both read. Text starting with = + - @ gets a leading apostrophe so Excel shows it
instead of running it as a formula (csv injection).
"""
from __future__ import annotations

import csv
import os
from typing import IO

from workflow.ledger.compute import Ledger
from workflow.reports import is_stream, open_text
from workflow.reports.tabular import DATE, DETAIL_COLUMNS, INT, detail_rows, headers, is_formula_like

BOM = "\ufeff"


def safe_cell(text: str, kind: str) -> str:
    """Neutralise text Excel would evaluate; dates and numbers are ours and stay as they are."""
    if kind not in (DATE, INT) and is_formula_like(text):
        return "'" + text
    return text


def write_csv(ledger: Ledger, out: str | os.PathLike | IO[str], by: str = "task") -> None:
    """Write the detail table to a path (atomically) or an open text stream.

    A stream opened by the caller gets the BOM too unless it is a `utf-8-sig` file that
    writes its own.
    """
    rows = detail_rows(ledger, by)
    with open_text(out, encoding="utf-8-sig", newline="") as fh:
        if is_stream(out) and (getattr(out, "encoding", "") or "").lower().replace("_", "-") != "utf-8-sig":
            fh.write(BOM)
        writer = csv.writer(fh)
        writer.writerow(headers(DETAIL_COLUMNS))
        for row in rows:
            writer.writerow([safe_cell(c.text(row), c.kind) for c in DETAIL_COLUMNS])
