"""Writers: stream the dataset's batches into CSV, Parquet or FHIR R4 NDJSON files.

Every writer takes the batches one at a time and writes them straight to disk
(csv.writer, pyarrow.parquet.ParquetWriter, one JSON line per resource), so
memory stays bounded by one batch. CSV and Parquet write their four tables
side by side from one pass over the data (``dataset.export_batches``).
``write_files`` returns the files written (all in ``workdir``) and the row
count of each.

pyarrow is imported only by the Parquet functions: it adds about 50 MB to the
process that loads it, and CSV and FHIR exports never need it.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from app.exports import fhir
from app.exports.dataset import Progress, export_batches
from app.exports.dictionary import DICTIONARY_HEADER, TABLES, Column, dictionary_rows
from app.exports.queries import Selection

if TYPE_CHECKING:
    import pyarrow as pa

# Dictionary type -> name of the pyarrow type factory (resolved lazily, see above).
_ARROW_TYPES = {
    "integer": "int64",
    "number": "float64",
    "text": "string",
    "dropdown": "string",
    "yesno": "bool_",
}

ROW_GROUP_ROWS = 20_000  # Parquet rows per row group: 4 assessment batches
# The narrower tables are written side by side with the assessments (one pass),
# so their pending rows add to the assessments' in memory: they flush sooner,
# which keeps the peak that of the assessments alone whatever the table sizes.
SIDE_TABLE_ROW_GROUP_ROWS = 5_000


def _write_dictionary(workdir: Path) -> Path:
    path = workdir / "data_dictionary.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(DICTIONARY_HEADER)
        writer.writerows(dictionary_rows())
    return path


class _CsvTable:
    """One table as CSV: the batches' tuples go straight to csv.writer (yes/no
    columns already hold REDCap's 1 / 0, so no per-row conversion)."""

    suffix = "csv"

    def __init__(self, path: Path, columns: tuple[Column, ...], row_group_rows: int) -> None:
        # row_group_rows: the same signature as _ParquetTable; CSV has no row groups.
        self._fh = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._fh)
        self._writer.writerow([c.name for c in columns])

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        self._writer.writerows(rows)

    def close(self) -> None:
        self._fh.close()


def arrow_schema(columns: tuple[Column, ...]) -> pa.Schema:
    """The Parquet schema of a table, typed from the dictionary."""
    import pyarrow as pa  # lazy: see the module docstring

    return pa.schema([pa.field(c.name, getattr(pa, _ARROW_TYPES[c.type])()) for c in columns])


def _arrow_array(values: tuple[Any, ...], type_: pa.DataType) -> pa.Array:
    """A column of one batch; yes/no columns arrive as 1 / 0 / None and become bools."""
    import pyarrow as pa  # lazy: see the module docstring

    if type_ == pa.bool_():
        return pa.array(values, type=pa.int8()).cast(pa.bool_())
    return pa.array(values, type=type_)


class _ParquetTable:
    """One table as Parquet, built column-wise: one pyarrow array per column of
    each batch. Batches are gathered into row groups of about ``row_group_rows``
    (ROW_GROUP_ROWS for the assessments): the writer keeps every row group's
    metadata (~30 KB) until the file is closed, so one row group per 5,000-row
    batch made memory grow with the table.
    """

    suffix = "parquet"

    def __init__(self, path: Path, columns: tuple[Column, ...], row_group_rows: int) -> None:
        import pyarrow as pa  # lazy: see the module docstring
        import pyarrow.parquet as pq

        self._row_group_rows = row_group_rows
        self._pa = pa
        self._schema = arrow_schema(columns)
        self._pool = pa.default_memory_pool()
        self._writer = pq.ParquetWriter(path, self._schema, compression="snappy")
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        schema = self._schema
        arrays = [
            _arrow_array(values, field.type)
            for values, field in zip(zip(*rows, strict=True), schema, strict=True)
        ]
        self._pending.append(self._pa.RecordBatch.from_arrays(arrays, schema=schema))
        self._pending_rows += len(rows)
        if self._pending_rows >= self._row_group_rows:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._writer.write_table(
                self._pa.Table.from_batches(self._pending, schema=self._schema)
            )
            self._pending, self._pending_rows = [], 0
            # Hand the buffers back to the OS: pyarrow's allocator keeps freed
            # memory for reuse, and the kept share crept up with the rows.
            self._pool.release_unused()

    def close(self) -> None:
        try:
            self._flush()
        finally:
            self._writer.close()


def _write_tables(
    conn: sa.Connection,
    sel: Selection,
    table_type: type[_CsvTable] | type[_ParquetTable],
    workdir: Path,
    progress: Progress,
) -> tuple[list[Path], dict[str, int]]:
    """Every table in one pass over the data (dataset.export_batches), each
    batch written to its table's file as it comes; all files stay open until
    the pass ends."""
    paths = {table: workdir / f"{table}.{table_type.suffix}" for table in TABLES}
    counts = dict.fromkeys(TABLES, 0)
    with ExitStack() as stack:
        writers = {}
        for table, columns in TABLES.items():
            group = ROW_GROUP_ROWS if table == "assessments" else SIDE_TABLE_ROW_GROUP_ROWS
            writers[table] = writer = table_type(paths[table], columns, group)
            stack.callback(writer.close)
        for table, rows in export_batches(conn, sel):
            if not rows:
                continue
            writers[table].write(rows)
            counts[table] += len(rows)
            progress(len(rows))
    return list(paths.values()), counts


def write_files(
    conn: sa.Connection,
    sel: Selection,
    fmt: str,
    workdir: Path,
    progress: Progress,
    *,
    manifest_request: str = "",
    transaction_time: str = "",
    file_done: Callable[[Path], None] | None = None,
) -> tuple[list[Path], dict[str, int]]:
    """Write every file of one export into ``workdir``; return (files, row counts).

    ``file_done(path)`` is called for each CSV or Parquet table file once it is
    complete (the tables are written side by side, so all at the end of the
    pass), so the caller can compress it while the rest is finished.
    """
    files: list[Path] = []
    counts: dict[str, int] = {}
    if fmt in ("csv", "parquet"):
        table_type = _CsvTable if fmt == "csv" else _ParquetTable
        files, counts = _write_tables(conn, sel, table_type, workdir, progress)
        if file_done is not None:
            for path in files:
                file_done(path)
        files.append(_write_dictionary(workdir))
        return files, counts
    if fmt == "fhir_ndjson":
        return fhir.write_ndjson(
            conn,
            sel,
            workdir,
            progress,
            request=manifest_request,
            transaction_time=transaction_time,
        )
    raise ValueError(f"unknown export format {fmt!r}")
