"""Civis operators. Import from the module of each capability, or from here.

Importing this package stays cheap: no scikit-learn, pandas, DuckDB or FastAPI (those belong to the
emulator), so DAG files that import from here parse fast
(``tests/integration/test_docs_examples.py::test_importing_operators_stays_cheap``).
"""

from airflow_civis.operators.enhancements import CivisCassNcoaOperator, CivisGeocodeOperator
from airflow_civis.operators.exports import CivisExportTableOperator
from airflow_civis.operators.files import CivisDownloadFileOperator, CivisUploadFileOperator
from airflow_civis.operators.imports import CivisImportCsvOperator
from airflow_civis.operators.jobs import CivisRunJobOperator
from airflow_civis.operators.ml import CivisMLPredictOperator, CivisMLTrainOperator
from airflow_civis.operators.queries import CivisQueryOperator
from airflow_civis.operators.scripts import CivisRunScriptOperator
from airflow_civis.operators.workflows import CivisRunWorkflowOperator

__all__ = [
    "CivisCassNcoaOperator",
    "CivisDownloadFileOperator",
    "CivisExportTableOperator",
    "CivisGeocodeOperator",
    "CivisImportCsvOperator",
    "CivisMLPredictOperator",
    "CivisMLTrainOperator",
    "CivisQueryOperator",
    "CivisRunJobOperator",
    "CivisRunScriptOperator",
    "CivisRunWorkflowOperator",
    "CivisUploadFileOperator",
]
