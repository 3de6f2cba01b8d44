"""What peer providers (Databricks, dbt Cloud) do: each deferred task polls its own run, one GET per
trigger per interval. Kept only as the benchmark's baseline.

The triggers share one HTTP client per process here (peer providers open one per trigger or even per
request): with a client each, 1,000 triggers spend the loop on client setup and cannot keep their
interval at all, which hides the polling strategy's cost behind the client's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from airflow.triggers.base import TriggerEvent

from airflow_civis.exceptions import CivisAPIError, CivisError
from airflow_civis.hooks._retry import is_retryable
from airflow_civis.hooks.civis_async import CivisAsyncHook
from airflow_civis.runs import ACTIVE_STATES
from airflow_civis.triggers.run import CivisRunTrigger

_HOOKS: dict = {}


class PerTriggerPollingTrigger(CivisRunTrigger):
    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = _HOOKS.setdefault((self.civis_conn_id, asyncio.get_running_loop()), CivisAsyncHook(self.civis_conn_id))
        while True:
            try:
                run = await hook.get_run(self.run_ref)
            except CivisAPIError as err:
                if not is_retryable(err):
                    yield self._event("error", message=str(err))
                    return
            except CivisError as err:
                yield self._event("error", message=str(err))
                return
            else:
                if run.get("state") and run["state"] not in ACTIVE_STATES:
                    yield self._event(run["state"], error=run.get("error"), finished_at=run.get("finishedAt"))
                    return
            now = time.time()
            if self.deadline is not None and now >= self.deadline:
                yield self._event("timeout", message=f"{self.run_ref} still running at its deadline")
                return
            await asyncio.sleep(self.poll_interval)
