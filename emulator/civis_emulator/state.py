"""One emulator instance's state: the store, the run registry, request stats (``app.state.emulator``)."""

from __future__ import annotations

from typing import Any

from .common import USER, now_iso
from .runs import RunRegistry
from .stats import Stats
from .store import Store


class EmulatorState:
    def __init__(self, api_key: str, data_dir: str | None = None, max_workers: int = 8):
        self.api_key = api_key
        self.data_dir = data_dir
        self.store = Store(data_dir)
        self.stats = Stats()
        self.extras: dict[str, Any] = {}  # other components (e.g. the warehouse) hang their objects here
        self._seed()
        self.registry = RunRegistry(self.store, api_key=api_key, max_workers=max_workers,
                                    stats=self.stats, state=self)
        from .civisml import seed_civisml  # the CivisML templates and their civis-civisml-* aliases

        seed_civisml(self)
        self._closed = False

    def _seed(self) -> None:
        """First start only: the user's default credentials (a database one, an S3 one)."""
        with self.store.lock:
            if self.store.get("credentials", 1) is not None:
                return
            now = now_iso()
            cred_id = self.store.next_id("credentials")
            self.store.put("credentials", {
                "id": cred_id, "name": "Emulator Warehouse", "type": "Database",
                "username": USER["username"], "description": "Default credential of the Civis emulator",
                "owner": USER["username"], "remoteHostId": None, "remoteHostName": None,
                "state": None, "createdAt": now, "updatedAt": now, "default": True, "oauth": False,
                "provider": None, "providerMetadata": None, "password": "",
            })
            # Like a real account with several credential types: another type's default, newer, so it is
            # what GET /credentials?default=true answers first unless the caller asks for type=Database.
            self.store.put("credentials", {
                "id": self.store.next_id("credentials"), "name": "Emulator S3", "type": "Amazon Web Services S3",
                "username": "AKIAEMULATOREXAMPLE", "description": "Default S3 credential of the Civis emulator",
                "owner": USER["username"], "remoteHostId": None, "remoteHostName": None,
                "state": None, "createdAt": now, "updatedAt": now, "default": True, "oauth": False,
                "provider": None, "providerMetadata": None, "password": "",
            })

    @property
    def workdir(self) -> str:
        """Where on-disk components live: the data dir, or a private temporary dir without one."""
        if self.data_dir:
            return self.data_dir
        if "_tmpdir" not in self.extras:
            import tempfile

            self.extras["_tmpdir"] = tempfile.TemporaryDirectory(prefix="civis-emulator-")
        return self.extras["_tmpdir"].name

    @property
    def warehouse(self):
        """The DuckDB warehouse behind database 1 (imports, queries, tables, exports, CivisML)."""
        with self.store.lock:
            if "warehouse" not in self.extras:
                import os

                from .warehouse import Warehouse

                self.extras["warehouse"] = Warehouse(os.path.join(self.workdir, "warehouse.duckdb"))
            return self.extras["warehouse"]

    @property
    def files(self):
        """Uploaded and produced files (``/files``), stored under the data dir."""
        with self.store.lock:
            if "files" not in self.extras:
                import os

                from .filestore import FileStore

                self.extras["files"] = FileStore(os.path.join(self.workdir, "files"))
            return self.extras["files"]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.registry.close()
        for extra in reversed(list(self.extras.values())):  # newest first: the temp dir goes last
            closer = getattr(extra, "close", None) or getattr(extra, "cleanup", None)
            if callable(closer):
                closer()
        self.store.close()
