"""Apache Airflow provider for Civis Platform."""

from __future__ import annotations

__version__ = "0.1.0"


def get_provider_info() -> dict:
    """Tell Airflow what this provider registers (read through the ``apache_airflow_provider`` entry point)."""
    return {
        "package-name": "airflow-civis",
        "name": "Civis Platform",
        "description": "Run Civis Platform jobs, scripts, imports, queries, CivisML and enhancements.",
        "versions": [__version__],
        "connection-types": [
            {"connection-type": "civis", "hook-class-name": "airflow_civis.hooks.civis.CivisHook"},
        ],
        "extra-links": ["airflow_civis.links.CivisRunLink"],
    }
