"""Read a table from a CSV, TSV or Parquet file, as columns of plain Python values.

Data files are hostile input: nothing in them is executed or unpickled. CSV goes through
the standard library's ``csv`` module (UTF-8, a byte-order mark tolerated), Parquet
through pyarrow (an optional extra, imported only to read a Parquet file). Every problem
with a file is a one-line ``ConfigError`` that names the file and what is wrong with it.

CSV cells are kept as the text read (``"3.5"``, ``""``); Parquet cells as the Python
values pyarrow gives (``3.5``, ``None``). Which cells count as missing, and which columns
are numbers, is decided by ``pegboard_tabular.preprocess``.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pegboard.errors import ConfigError, DataNotFound

#: File suffixes read as CSV, with their delimiter.
DELIMITERS = {".csv": ",", ".tsv": "\t"}
#: File suffixes read as Parquet.
PARQUET_SUFFIXES = (".parquet", ".pq")
PARQUET_HINT = "pip install 'pegboard-tabular[parquet]'"


@dataclass
class Table:
    """The columns of one file, in the file's order, each a list of its cells.

    Args:
        name: The file's name, for messages.
        columns: Column name to its cells, one per row; every list has the same length.
    """

    name: str
    columns: dict[str, list[Any]]

    @property
    def num_rows(self) -> int:
        """Number of data rows (the header not counted)."""
        return len(next(iter(self.columns.values()), []))

    def rows(self) -> list[dict[str, Any]]:
        """One dict per row, column name to the cell as read."""
        names = list(self.columns)
        return [
            dict(zip(names, cells, strict=True))
            for cells in zip(*self.columns.values(), strict=True)
        ]


def one_line(error: BaseException | str) -> str:
    """An error's message on one line (library messages may span several).

    Args:
        error: An exception or a message.
    """
    text = " ".join(str(error).split())
    return text or type(error).__name__


def printable(text: object) -> str:
    """``text`` as is, or quoted with escapes when it holds line breaks or control characters.

    Names come from hostile files; a message must stay one readable line.

    Args:
        text: A name or value.
    """
    text = str(text)
    return text if text.isprintable() else repr(text)


def listing(names: Sequence[str], limit: int = 12) -> str:
    """``"a, b, c"``: column names for a message, cut after ``limit`` of them.

    Args:
        names: The names.
        limit: How many to show.
    """
    shown = ", ".join(printable(name) for name in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def read_table(path: str | Path) -> Table:
    """Read ``path`` by its suffix: ``.csv`` and ``.tsv`` as text, ``.parquet``/``.pq``.

    Args:
        path: The file.

    Raises:
        DataNotFound: There is no such file.
        ConfigError: The file is not a readable table, or has no data rows.
    """
    path = Path(path).expanduser()
    name = printable(path.name)
    if not path.exists():
        raise DataNotFound(
            f"{printable(path)} does not exist; give the path of a CSV or Parquet file"
        )
    if not path.is_file():
        raise ConfigError(
            f"{printable(path)} is not a file; give the path of a CSV or Parquet file"
        )
    suffix = path.suffix.lower()
    if suffix in DELIMITERS:
        table = _read_csv(path, name, DELIMITERS[suffix])
    elif suffix in PARQUET_SUFFIXES:
        table = _read_parquet(path, name)
    else:
        known = ", ".join([*DELIMITERS, *PARQUET_SUFFIXES])
        raise ConfigError(f"{name}: cannot tell its format from its suffix; reads {known}")
    if not table.columns:
        raise ConfigError(f"{name} has no columns: a table needs a header row")
    if table.num_rows == 0:
        raise ConfigError(f"{name} has a header but no data rows")
    return table


def _header(cells: Sequence[Any], name: str) -> list[str]:
    # An empty header cell is how pandas writes its index column: name it, as pandas
    # reads it back, so that it can be listed in data.drop.
    names = [str(cell).strip() or f"unnamed_{i}" for i, cell in enumerate(cells)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"{name} has more than one column named {listing(repeated)}")
    return names


def _read_csv(path: Path, name: str, delimiter: str) -> Table:
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            reader = csv.reader(file, delimiter=delimiter)
            try:
                names = _header(next(reader), name)
            except StopIteration:
                raise ConfigError(f"{name} is empty: a table needs a header row") from None
            cells: list[list[str]] = []
            for row in reader:
                if not row:  # a blank line
                    continue
                if len(row) != len(names):
                    raise ConfigError(
                        f"line {reader.line_num} of {name} has {len(row)} fields but "
                        f"its header has {len(names)}"
                    )
                cells.append(row)
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{name} is not UTF-8 text (it holds byte {error.object[error.start]:#04x}); "
            "save it as a UTF-8 CSV"
        ) from None
    except csv.Error as error:
        raise ConfigError(f"{name} is not a readable CSV file: {one_line(error)}") from None
    columns = {column: [row[i] for row in cells] for i, column in enumerate(names)}
    return Table(name, columns)


def _read_parquet(path: Path, name: str) -> Table:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError(f"reading {name} needs pyarrow: {PARQUET_HINT}") from None
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise ConfigError(f"{name} is not a readable Parquet file: {one_line(error)}") from None
    names = _header(table.column_names, name)
    for field in table.schema:
        kind = field.type
        if pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            raise ConfigError(
                f"column {field.name!r} of {name} holds {kind} values; tabular data "
                "takes numbers and text: list it in data.drop"
            )
    columns = {column: table.column(i).to_pylist() for i, column in enumerate(names)}
    return Table(name, columns)


__all__ = [
    "DELIMITERS",
    "PARQUET_HINT",
    "PARQUET_SUFFIXES",
    "Table",
    "listing",
    "one_line",
    "read_table",
]
