"""
civis_quickstart: the smallest useful Airflow DAG on Civis Platform.

1. ``make_greeting`` creates a Python 3 script on Civis and runs it; the script posts its result as a
   JSON value *run output*, the way Civis scripts hand values on.
2. ``shout_greeting`` creates a container script that receives that value as an argument (XCom between
   two Civis runs) and prints it in capitals.
3. ``wait_for_greeting`` is a sensor that waits for the Python job's latest run.

Point the ``civis_default`` connection at Civis Platform, or at the bundled emulator (``make demo``).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_civis.operators.scripts import CivisRunScriptOperator
from airflow_civis.sensors.run import CivisRunSensor

# Runs on Civis (or in the emulator): plain stdlib, so it needs no image with extra packages.
MAKE_GREETING = '''
import json, os, urllib.request

api = os.environ.get("CIVIS_API_ENDPOINT", "https://api.civisanalytics.com/").rstrip("/")
headers = {"Authorization": "Bearer " + os.environ["CIVIS_API_KEY"], "Content-Type": "application/json"}

def post(path, body):
    request = urllib.request.Request(api + path, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request) as response:
        return json.load(response)

greeting = "hello, " + os.environ["WHO"]
print("made the greeting:", greeting)
value = post("/json_values", {"name": "greeting", "valueStr": json.dumps(greeting)})
job, run = os.environ["CIVIS_JOB_ID"], os.environ["CIVIS_RUN_ID"]
post(f"/scripts/python3/{job}/runs/{run}/outputs", {"objectType": "JSONValue", "objectId": value["id"]})
print("posted run output 'greeting' as JSON value", value["id"])
'''

with DAG(
    dag_id="civis_quickstart",
    description="Create and run a Python script and a container script on Civis, passing a value between them",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["civis", "example"],
    default_args={"retries": 1},
) as dag:
    make_greeting = CivisRunScriptOperator(
        task_id="make_greeting",
        script_type="python3",
        script={
            "source": MAKE_GREETING,
            "params": [{"name": "WHO", "type": "string", "required": True}],
            "arguments": {"WHO": "{{ dag.dag_id }}"},
        },
        poll_interval=1,
    )

    shout_greeting = CivisRunScriptOperator(
        task_id="shout_greeting",
        script_type="containers",
        script={
            "dockerCommand": 'echo "the greeting, shouted: ${GREETING^^}"',
            "params": [{"name": "GREETING", "type": "string", "required": True}],
        },
        arguments={"GREETING": "{{ ti.xcom_pull(task_ids='make_greeting')['outputs']['greeting'] }}"},
        poll_interval=1,
    )

    wait_for_greeting = CivisRunSensor(
        task_id="wait_for_greeting",
        job_id="{{ ti.xcom_pull(task_ids='make_greeting', key='job_id') }}",
        poke_interval=1,
    )

    make_greeting >> [shout_greeting, wait_for_greeting]
