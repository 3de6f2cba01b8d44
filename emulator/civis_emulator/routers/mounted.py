"""Every router, in the order ``create_app`` mounts them.

Apart from the package's ``__init__`` (which each router imports ``emulator`` from), so that the package
and its modules do not import each other in a cycle.
"""

from __future__ import annotations

from . import (
    admin,
    aliases,
    credentials,
    databases,
    enhancements,
    exports,
    file_transfer,
    files,
    imports,
    imports_generic,
    jobs,
    json_values,
    models,
    pages,
    projects,
    queries,
    reports,
    script_runs,
    scripts,
    sharing,
    tables,
    templates,
    users,
    workflow_pages,
    workflows,
)

ALL_ROUTERS = [
    admin.router,
    users.router,
    credentials.router,
    databases.router,
    jobs.router,
    json_values.router,
    templates.router,
    script_runs.router,
    scripts.router,
    files.router,
    file_transfer.router,
    imports.router,
    queries.router,
    exports.router,
    tables.router,
    aliases.router,
    models.router,
    enhancements.router,
    imports_generic.router,  # /imports, /imports/files, /imports/batches (after imports.router)
    reports.router,
    workflows.router,
    projects.router,  # after the resource routers: shadows none of their routes
    sharing.router,  # shares, projects membership, archive, transfer of every resource (one table)
    workflow_pages.router,  # /_emulator/ui/workflows/...: an execution's page (guarded as pages.py's)
    pages.router,  # /_emulator/ui: HTML run pages, the one place answered without the API key (see pages.py)
]
