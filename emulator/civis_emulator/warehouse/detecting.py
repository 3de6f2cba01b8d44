"""What a CSV file is, read from its bytes: compression, delimiter, header and column types.

Behind ``POST /files/preprocess/csv`` (the official client's step before an import into a new table).
Delimiter and header come from DuckDB's CSV sniffer unless the caller states them; the column types
come from the same check an import without types makes, over every row, so a preprocessed import
declares what an import would have detected.
"""

from __future__ import annotations

import os
from typing import Any

import duckdb

from .common import STAGE, translated_errors
from .csvsource import first_record, normalize_delimiter
from .errors import WarehouseError
from .importing import ImportMixin
from .sqltypes import quote_literal

DELIMITER_NAMES = {",": "comma", "\t": "tab", "|": "pipe"}
GZIP_MAGIC = b"\x1f\x8b"


def file_compression(path: str) -> str:
    """``gzip`` when the file starts with the gzip magic bytes, else ``none``."""
    with open(path, "rb") as fh:
        return "gzip" if fh.read(2) == GZIP_MAGIC else "none"


class DetectMixin(ImportMixin):
    """``detect_csv`` for :class:`~civis_emulator.warehouse.Warehouse`."""

    def detect_csv(self, path: str | os.PathLike[str], *, header: bool | None = None,
                   delimiter: str | None = None, detect_columns: bool = True) -> dict[str, Any]:
        """``{"includeHeader", "columnDelimiter", "compression", "tableColumns"}`` of one CSV file.

        ``header`` / ``delimiter`` (``comma``, ``tab``, ``pipe`` or the character) are taken as given
        when not None; ``tableColumns`` (``[{"name", "sqlType"}]`` in file order) is empty unless
        ``detect_columns``. Raises :class:`WarehouseError` for a file that is empty or not CSV.
        """
        path = os.path.abspath(os.fspath(path))
        if not os.path.isfile(path):
            raise WarehouseError(f"Source file not found: {os.path.basename(path)}")
        compression = file_compression(path)
        sniffed_delim, sniffed_header = (None, None) if (header is not None and delimiter is not None) \
            else self._sniff(path, compression)
        delim = normalize_delimiter(delimiter if delimiter is not None else sniffed_delim or ",")
        if delim not in DELIMITER_NAMES:
            delim = ","
        has_header = header if header is not None else bool(sniffed_header)
        record = first_record(path, delimiter=delim, compression=compression, escaped=False)
        if not record:
            raise WarehouseError(f"{os.path.basename(path)} is empty: there are no columns to detect")
        info: dict[str, Any] = {"includeHeader": has_header, "columnDelimiter": DELIMITER_NAMES[delim],
                                "compression": compression, "tableColumns": []}
        if detect_columns:
            names = ([n.strip() or f"column{i}" for i, n in enumerate(record)] if has_header
                     else [f"column{i}" for i in range(len(record))])
            types = self._detect_types(path, len(record), has_header, delim, compression)
            info["tableColumns"] = [{"name": n, "sqlType": t} for n, t in zip(names, types)]
        return info

    def _sniff(self, path: str, compression: str) -> tuple[str | None, bool | None]:
        """DuckDB's guess of (delimiter, has header); (None, None) when it cannot tell."""
        try:
            with self._cursor() as cur:
                row = cur.execute(f"SELECT Delimiter, HasHeader FROM sniff_csv(?, compression = '{compression}')",
                                  [path]).fetchone()
        except duckdb.Error:
            return None, None
        return (row[0], bool(row[1])) if row else (None, None)

    def _detect_types(self, path: str, ncols: int, header: bool, delim: str, compression: str) -> list[str]:
        stage_cols = ", ".join(f"{quote_literal(f'c{i}')}: 'VARCHAR'" for i in range(ncols))
        with self._cursor() as cur, translated_errors():
            cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cur.execute(
                f"""CREATE TEMP TABLE {STAGE} AS SELECT * FROM read_csv(?, columns = {{{stage_cols}}},
                        header = {'true' if header else 'false'}, delim = {quote_literal(delim)}, quote = '"',
                        escape = '"', compression = '{compression}', auto_detect = false, strict_mode = true)""",
                [[path]],
            )
            try:
                return [ct.sql_type for ct in self._detect(cur, list(range(ncols)))]
            finally:
                cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
