"""A local Civis API emulator (FastAPI + uvicorn): same paths and fields as the real API.

Entry points: :func:`airflow_civis.emulator.app.create_app`, :class:`airflow_civis.emulator.server.EmulatorServer`,
the ``civis-emulator`` console script (:mod:`airflow_civis.emulator.cli`), and the runner registry in
:mod:`airflow_civis.emulator.runs` for new kinds of jobs.
"""
