"""Read a CSV of reels: a header row naming create-job options, then one row per reel.

Empty cells are left out, so a row takes the batch's defaults for them; booleans read as
true/false, yes/no or 1/0. An unknown column is an error naming it, before any job exists.
"""

import csv
import io

from ..errors import InvalidRequest

COLUMNS = ("topic", "script", "title", "archetype", "pacing", "platform", "voice", "direction", "dryRun",
           "noMusic", "noVideo", "useMyMedia", "enhance")
BOOLEANS = {"dryRun", "noMusic", "noVideo", "useMyMedia", "enhance"}
TRUE, FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


def _refuse(message, field="file"):
    raise InvalidRequest(message, code="validation_error", details={"errors": [{"field": field, "message": message}]})


def _value(column, cell, where):
    if column not in BOOLEANS:
        return cell
    word = cell.strip().lower()
    if word not in TRUE | FALSE:
        _refuse(f"{column} must be true or false, not '{cell[:40]}'", where)
    return word in TRUE


def read_rows(data: bytes, max_rows: int) -> list[dict]:
    """The create-job bodies a CSV file holds, one per non-empty row."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _refuse("the file is not UTF-8 text (save the spreadsheet as CSV UTF-8)")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        _refuse(f"the file is not valid CSV: {exc}")
    if not rows:
        _refuse("the file is empty: a header row naming the columns, then a row per reel")
    header = [name.strip() for name in rows[0]]
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        _refuse(f"unknown column '{unknown[0][:40]}'; columns are: {', '.join(COLUMNS)}")
    bodies = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            _refuse(f"row {number} has {len(row)} cells but the header names {len(header)} columns")
        if len(bodies) == max_rows:
            _refuse(f"the file holds more than {max_rows} reels; split it")
        bodies.append({column: _value(column, cell, f"file.row{number}.{column}")
                       for column, cell in zip(header, row) if cell.strip()})
    if not bodies:
        _refuse("the file has a header but no reels")
    return bodies
