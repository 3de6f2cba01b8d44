"""A local Civis API emulator (FastAPI + uvicorn): same paths and fields as the real API.

Entry points: :func:`civis_emulator.app.create_app`, :class:`civis_emulator.server.EmulatorServer`,
the ``civis-emulator`` console script (:mod:`civis_emulator.cli`), and the runner registry in
:mod:`civis_emulator.runs` for new kinds of jobs.
"""
