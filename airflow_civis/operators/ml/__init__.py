"""CivisML: train a model and score data with it, launched the way the official clients launch it.

Both operators create a *custom script* from a CivisML template (found through its alias,
``civis-civisml-training`` / ``civis-civisml-prediction``, as ``civis.ml.ModelPipeline`` does), with the
template's argument names, sending only the arguments that template's CivisML version takes; then run it
through the shared run lifecycle and read the run's File outputs (``metrics.json``, ``model_info.json``)
exactly where the clients read them, failing on a model exception recorded there.

One module per job: ``validation`` (parse-time checks), ``templates`` (finding templates by alias),
``reports`` (CivisML's JSON reports), ``metrics`` (log lines), ``base``, ``train`` and ``predict``.
"""

from airflow_civis.operators.ml.metrics import metrics_summary
from airflow_civis.operators.ml.predict import CivisMLPredictOperator
from airflow_civis.operators.ml.templates import parse_alias
from airflow_civis.operators.ml.train import CivisMLTrainOperator

__all__ = ["CivisMLPredictOperator", "CivisMLTrainOperator", "metrics_summary", "parse_alias"]
