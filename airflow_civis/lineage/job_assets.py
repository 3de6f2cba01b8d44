"""Civis jobs as Airflow assets, ``civis-job://<job id>``: what a DAG scheduled on a job's runs (an
``AssetWatcher`` with :class:`~airflow_civis.triggers.events.CivisJobEventTrigger`) names.

A scheme of its own, apart from ``civis://`` (warehouse tables), registered with its normaliser
(``asset-uris`` in :func:`airflow_civis.get_provider_info`): ``civis-job://0042`` and ``civis-job://42/``
are one asset, and ``civis-job://abc`` fails when the DAG is parsed, not silently as an asset no
watcher's job id matches. Like table URIs it names no API host, so the same DAG works against the
emulator and the platform.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from urllib.parse import SplitResult

JOB_SCHEME = "civis-job"


def sanitize_job_uri(uri: SplitResult) -> SplitResult:
    """Airflow's URI normaliser for ``civis-job://``: a positive integer job id and nothing else."""
    host = uri.netloc
    shown = uri._replace(path="" if uri.path == "/" else uri.path).geturl()  # as written, before Airflow's "/"
    if not (host.isascii() and host.isdigit() and int(host) > 0) or uri.path not in ("", "/") or uri.query:
        raise ValueError(
            f"A civis-job asset URI is civis-job://<job id> with the positive integer id of the Civis job "
            f"(nothing after it), e.g. Asset(uri=f\"civis-job://{{job_id}}\") with the job_id given to "
            f"CivisJobEventTrigger; got {shown!r}")
    return uri._replace(netloc=str(int(host)), path="", query="", fragment="")
