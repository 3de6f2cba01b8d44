"""Apache Airflow provider for Civis Platform."""

from __future__ import annotations

__version__ = "0.1.0"

#: The connection form (Airflow >= 3.2 reads it from here without importing the hook; older 3.x call
#: ``CivisHook.get_ui_field_behaviour``, which derives its answer from this one).
CONNECTION_UI_FIELD_BEHAVIOUR = {
    "hidden-fields": ["schema", "login", "port"],
    "relabeling": {"password": "API Key", "host": "API URL"},
    "placeholders": {
        "host": "https://api.civisanalytics.com (emulator: http://127.0.0.1:PORT + extra emulator=true)",
        "password": "Civis API key",
        "extra": '{"timeout": 60, "verify": true, "retry": {"max_attempts": 10}}',
    },
}


def get_provider_info() -> dict:
    """What this provider registers; Airflow reads it through the ``apache_airflow_provider`` entry point."""
    return {
        "package-name": "airflow-civis",
        "name": "Civis Platform",
        "description": "Run Civis Platform jobs, scripts, workflows, imports, queries, CivisML and enhancements.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "civis",
                "hook-class-name": "airflow_civis.hooks.civis.CivisHook",
                "hook-name": "Civis Platform",
                "ui-field-behaviour": CONNECTION_UI_FIELD_BEHAVIOUR,
            },
        ],
        "extra-links": ["airflow_civis.links.CivisRunLink"],
        # Warehouse tables as assets, civis://<database>/<schema>/<table> (airflow_civis.lineage), and
        # jobs whose runs an asset watcher turns into events, civis-job://<job id> (CivisJobEventTrigger).
        "asset-uris": [
            {"schemes": ["civis"], "handler": "airflow_civis.lineage.sanitize_uri"},
            {"schemes": ["civis-job"], "handler": "airflow_civis.lineage.job_assets.sanitize_job_uri"},
        ],
        # @task.civis (airflow.sdk's `task` finds provider decorators here, by name).
        "task-decorators": [{"name": "civis", "class-name": "airflow_civis.decorators.civis.civis_task"}],
    }
