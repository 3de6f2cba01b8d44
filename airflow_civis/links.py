"""Extra link from a task to its Civis run's page (the platform's, or the emulator's own page)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

RUN_URL_XCOM_KEY = "run_url"


def run_page_url(app_url: str, job_id: int, run_id: int) -> str:
    """The page a person opens to look at one run."""
    return f"{app_url.rstrip('/')}/jobs/{int(job_id)}/runs/{int(run_id)}"


class CivisRunLink(BaseOperatorLink):
    """Reads the run URL the operator pushed to XCom before it started waiting, so it works on failure too."""

    name = "Civis Run"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.bases.xcom import BaseXCom

        # TaskInstanceKey has read-only fields where TIKeyProtocol declares plain ones: same data.
        return BaseXCom.get_value(key=RUN_URL_XCOM_KEY, ti_key=ti_key) or ""  # type: ignore[arg-type]
