"""What an event trigger has already handled, kept where a triggerer restart cannot lose it.

An event trigger's kwargs are fixed when the DAG is parsed, so "the newest run (or refresh) already
handled" cannot live there. Airflow 3.3+ injects the watched asset's state store into event triggers
(``asset_state_store``, rows in Airflow's database): the mark is kept there under the trigger's own key.
Without one (Airflow before 3.3), or where it has no single asset (one trigger watching several assets:
the store raises ValueError), the mark lives in memory and a restart starts afresh; the trigger logs that.
"""

from __future__ import annotations

from typing import Any


class AssetMark:
    """``await load()`` once, ``await save(value)`` before each event leaves (never twice, at most once)."""

    def __init__(self, trigger: Any, key: str) -> None:
        self.trigger = trigger
        self.key = key
        self.value: Any = None
        self.memory_only = False

    async def _call(self, method: str, *args: Any) -> Any:
        store = getattr(self.trigger, "asset_state_store", None)
        if store is None or self.memory_only:
            return None
        try:
            return await getattr(store, method)(*args)
        except ValueError:  # one trigger watching several assets: no single place for the mark
            self.memory_only = True
            self.trigger.log.warning("%s watches several assets: its mark is kept in memory only, so a "
                                     "triggerer restart starts afresh", type(self.trigger).__name__)
            return None

    async def load(self) -> Any:
        """The stored mark, or None (never stored, or no store): the caller takes its baseline then."""
        if self.value is None:
            self.value = await self._call("aget", self.key)
        return self.value

    async def save(self, value: Any) -> None:
        self.value = value
        await self._call("aset", self.key, value)
