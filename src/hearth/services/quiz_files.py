"""Reading question banks from YAML, CSV and JSON files into records ``plan_import`` checks.

All three formats carry the same fields: ``text``, ``options``, ``correct`` (1-based number,
letter, or the option's text), and optionally ``explanation``, ``topic``, ``difficulty``.
YAML and JSON hold a list of questions (or ``{"questions": [...]}``) with ``options`` as a
list; CSV has one question per row with the options in ``option1`` … ``option10`` columns
(or one ``options`` column separated by ``|``).
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Mapping
from typing import Any

import yaml

MAX_FILE_BYTES = 2_000_000  # a bank of thousands of questions fits well within this
MAX_ROWS = 5_000


class FileFormat(enum.StrEnum):
    YAML = "yaml"
    CSV = "csv"
    JSON = "json"


class UnreadableFile(ValueError):
    """The file as a whole cannot be read; ``reason`` says why, in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def format_of(file_name: str) -> FileFormat | None:
    """The format a file name announces (``.yaml``/``.yml``, ``.csv``, ``.json``)."""
    suffix = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    return {
        "yaml": FileFormat.YAML,
        "yml": FileFormat.YAML,
        "csv": FileFormat.CSV,
        "json": FileFormat.JSON,
    }.get(suffix)


def read_records(content: bytes, file_format: FileFormat) -> list[Mapping[str, object]]:
    """The question records of a file; raises ``UnreadableFile`` for a broken file."""
    if len(content) > MAX_FILE_BYTES:
        raise UnreadableFile(f"larger than {MAX_FILE_BYTES // 1_000_000} MB")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile("not UTF-8 text") from error
    if file_format is FileFormat.CSV:
        records = _csv_records(text)
    else:
        records = _document_records(text, file_format)
    if not records:
        raise UnreadableFile("no questions found")
    if len(records) > MAX_ROWS:
        raise UnreadableFile(f"more than {MAX_ROWS} questions")
    return records


def _document_records(text: str, file_format: FileFormat) -> list[Mapping[str, object]]:
    try:
        document: Any = yaml.safe_load(text) if file_format is FileFormat.YAML else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        raise UnreadableFile(f"not valid {file_format.value.upper()}{_line_of(error)}") from error
    if isinstance(document, Mapping) and "questions" in document:
        document = document["questions"]
    if not isinstance(document, list):
        raise UnreadableFile("expected a list of questions")
    # A row that is not a mapping becomes an empty record: rejected with its row number.
    return [row if isinstance(row, Mapping) else {} for row in document]


def _line_of(error: Exception) -> str:
    """Where a parser found the problem, as " (line N)" (empty when it does not say)."""
    mark = getattr(error, "problem_mark", None)
    if mark is not None:
        return f" (line {mark.line + 1})"
    line = getattr(error, "lineno", None)
    return f" (line {line})" if isinstance(line, int) else ""


def _csv_records(text: str) -> list[Mapping[str, object]]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if reader.fieldnames is None or "text" not in {
        name.strip().lower() for name in reader.fieldnames
    }:
        raise UnreadableFile("the first row must name the columns, including 'text'")
    records: list[Mapping[str, object]] = []
    for row in reader:
        fields = {
            (name or "").strip().lower(): (value or "").strip()
            for name, value in row.items()
            if isinstance(value, str)
        }
        options: list[str] = []
        if fields.get("options"):
            options = [option.strip() for option in fields["options"].split("|")]
        else:
            numbered = sorted(
                (int(name.removeprefix("option")), value)
                for name, value in fields.items()
                if name.startswith("option") and name.removeprefix("option").isdigit()
            )
            options = [value for _, value in numbered if value]
        records.append({**fields, "options": options})
    return records
