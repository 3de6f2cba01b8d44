"""Data for the CivisML and enhancement tests, loaded straight into the session emulator's warehouse."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

_counter = itertools.count(1)


@pytest.fixture
def load_table(civis_conn, tmp_path):
    """``load_table(frame, prefix)`` -> a fresh ``schema.table`` name holding ``frame``."""
    warehouse = civis_conn.app.state.emulator.warehouse

    def load(frame: pd.DataFrame, prefix: str = "t") -> str:
        name = f"{prefix}_{next(_counter)}_{tmp_path.name[-8:].lower()}".replace("-", "_")
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        warehouse.import_csv([str(path)], "public", name, if_exists="drop")
        return f"public.{name}"

    return load


@pytest.fixture
def read_table(civis_conn, tmp_path):
    warehouse = civis_conn.app.state.emulator.warehouse

    def read(name: str, order_by: str | None = None) -> pd.DataFrame:
        sql = f"SELECT * FROM {name}" + (f" ORDER BY {order_by}" if order_by else "")
        out = tmp_path / "read"
        paths = warehouse.export_csv(sql, str(out), file_name=name.replace(".", "_"))
        return pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths], ignore_index=True)

    return read


@pytest.fixture(scope="session")
def iris_frame() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    frame["species"] = [data.target_names[i] for i in data.target]
    frame.insert(0, "row_id", range(1, len(frame) + 1))
    return frame.drop(columns=["target"])
