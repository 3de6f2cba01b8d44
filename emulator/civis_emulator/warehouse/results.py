"""Result types returned by :class:`~civis_emulator.warehouse.Warehouse`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImportResult:
    """Outcome of :meth:`Warehouse.import_csv`.

    ``rows_inserted`` counts the rows written to the table by this import (for ``upsert`` this
    includes rows that replaced an existing row, also counted in ``rows_updated``);
    ``rows_rejected`` counts rows skipped because ``max_errors`` allowed it.
    ``columns`` is the table's column list afterwards: ``[{"name": ..., "sqlType": ...}]``.
    """

    rows_inserted: int
    rows_rejected: int
    columns: list[dict[str, str]]
    rows_updated: int = 0
    table_id: int | None = None


@dataclass(frozen=True)
class QueryResult:
    """Outcome of :meth:`Warehouse.query`.

    ``columns``: ``[{"name", "sqlType"}]`` of the last statement that returns rows (empty when none
    does); ``rows``: at most ``preview_rows`` rows, every value rendered as text like Civis'
    ``resultRows`` (``None`` for NULL); ``row_count``: the full number of result rows, or the
    number of rows affected when the last statement is DML.
    """

    columns: list[dict[str, str]]
    rows: list[list[str | None]] = field(default_factory=list)
    row_count: int = 0
