"""Extra link from a task to its Civis run's page (the platform's, or the emulator's own page)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

RUN_URL_XCOM_KEY = "run_url"
_NOT_AN_OPERATOR_THAT_RAN = object()


#: Where the emulator serves its read-only run pages (emulator/civis_emulator/routers/pages.py).
EMULATOR_UI_PATH = "/_emulator/ui"


def run_page_url(app_url: str, job_id: int, run_id: int, *, emulator: bool = False) -> str:
    """The page a person opens to look at one run.

    On Civis Platform, the platform's own run page (the URL ``civis.futures.CivisFuture.job_run_url``
    gives): ``https://platform.civisanalytics.com/spa/#/jobs/<job>?runId=<run>``. On the emulator
    (``emulator``: its connection says so; a loopback host alone may be a tunnel to real Civis), its
    HTML page ``<app_url>/_emulator/ui/jobs/<job>/runs/<run>``; the API's ``/jobs/<job>/runs/<run>``
    is a JSON route that needs the API key, which a browser does not send.
    """
    base = app_url.rstrip("/")
    if emulator:
        return f"{base}{EMULATOR_UI_PATH}/jobs/{int(job_id)}/runs/{int(run_id)}"
    return f"{base}/spa/#/jobs/{int(job_id)}?runId={int(run_id)}"


class CivisRunLink(BaseOperatorLink):
    """Reads the run URL the operator pushed to XCom before it started waiting, so it works on failure too."""

    name = "Civis Run"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.bases.xcom import BaseXCom

        # The operator that has just run, in this process (Airflow asks when the task ends): it knows its
        # run's page, or that it started none, without an XCom lookup that would log an error-level
        # "XCom not found" after a failed start. Elsewhere (a serialized operator) the XCom says.
        known = getattr(operator, "run_url", _NOT_AN_OPERATOR_THAT_RAN)
        if known is not _NOT_AN_OPERATOR_THAT_RAN:
            return str(known or "")
        # TaskInstanceKey has read-only fields where TIKeyProtocol declares plain ones: same data.
        return BaseXCom.get_value(key=RUN_URL_XCOM_KEY, ti_key=ti_key) or ""  # type: ignore[arg-type]
