#!/usr/bin/env python
"""Which Civis API methods the emulator implements, and which answer 501.

Rows: every method of the Python client's API resources listed in the seed reference
(``/work/shared/seeds/001_*.txt``, 13 classes), plus the R client's high-level helpers
(``000_*.txt``: write_civis, read_civis, query_civis, civis_ml, await, ...) with the endpoints they
need. Each Python method is mapped to its HTTP method and path through the official spec, with the
civis client's own naming rule (``civis.resources._resources.parse_method_name``: verb + static
path segments, ``get`` -> ``list`` where the path ends in a static segment; both the legacy and the
new names are tried). Implemented vs 501 is decided by *probing* an in-process emulator
(``create_app`` + TestClient): every operation is called with a request the contract accepts
(dummy ids, a minimal body with the schema's required fields); only a 501 counts as not implemented.

    python scripts/emulator_coverage.py                # prints totals, writes docs/emulator-coverage.md
    python scripts/emulator_coverage.py --check        # exit 1 if the doc is out of date
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SEEDS = Path(os.environ.get("CIVIS_SEEDS_DIR", "/work/shared/seeds"))
DOC = REPO / "docs" / "emulator-coverage.md"
PROBE_ID = "987654"

# R helpers (non-generated functions of civis-r) -> the endpoints they call. "local" helpers make no
# API call of their own. Endpoints are spec operations ("METHOD /template").
_RUN_SQL = ["POST /scripts/sql", "POST /scripts/sql/{id}/runs", "GET /scripts/sql/{id}/runs/{run_id}"]
_CIVIS_ML = [
    "GET /templates/scripts",
    "POST /scripts/custom",
    "POST /scripts/custom/{id}/runs",
    "GET /scripts/custom/{id}/runs/{run_id}",
    "GET /scripts/custom/{id}/runs/{run_id}/outputs",
    "GET /files/{id}",
    "GET /json_values/{id}",
]
R_HELPERS: dict[str, list[str]] = {
    "write_civis": [
        "GET /databases",
        "POST /files",
        "POST /imports/files/csv",
        "POST /imports/files/csv/{id}/runs",
        "GET /imports/files/csv/{id}/runs/{run_id}",
    ],
    "write_civis_file": ["POST /files", "POST /files/multipart", "POST /files/multipart/{id}/complete"],
    "multipart_upload": ["POST /files/multipart", "POST /files/multipart/{id}/complete"],
    "read_civis": ["GET /databases", *_RUN_SQL, "GET /files/{id}"],
    "download_civis": ["GET /databases", *_RUN_SQL, "GET /files/{id}"],
    "query_civis": ["GET /databases", "POST /queries", "GET /queries/{id}"],
    "query_civis_file": ["GET /databases", *_RUN_SQL, "GET /files/{id}"],
    "civis_to_multifile_csv": ["GET /databases", *_RUN_SQL, "GET /files/{id}"],
    "refresh_table": ["GET /databases", "GET /tables", "POST /tables/{id}/refresh", "GET /tables/{id}"],
    "get_table_id": ["GET /databases", "GET /tables"],
    "get_database_id": ["GET /databases"],
    "transfer_table": [
        "POST /imports",
        "POST /imports/{id}/syncs",
        "POST /imports/{id}/runs",
        "GET /jobs/{id}/runs/{run_id}",
    ],
    "default_credential": ["GET /users/me", "GET /credentials"],
    "run_civis": [
        "POST /scripts/containers",
        "POST /scripts/containers/{id}/runs",
        "GET /scripts/containers/{id}/runs/{run_id}",
        "GET /scripts/containers/{id}/runs/{run_id}/outputs",
    ],
    "run_template": [
        "POST /scripts/custom",
        "POST /scripts/custom/{id}/runs",
        "GET /scripts/custom/{id}/runs/{run_id}",
        "GET /scripts/custom/{id}/runs/{run_id}/outputs",
    ],
    "write_job_output": ["POST /files", "POST /scripts/containers/{id}/runs/{run_id}/outputs"],
    "await / await_all / fetch_until": ["GET /jobs/{id}/runs/{run_id}", "GET /scripts/python3/{id}/runs/{run_id}"],
    "CivisFuture / cancel": ["GET /jobs/{id}/runs/{run_id}", "DELETE /jobs/{id}/runs/{run_id}"],
    "fetch_logs": ["GET /jobs/{id}/runs/{run_id}/logs", "GET /scripts/python3/{id}/runs/{run_id}/logs"],
    "fetch_output_file_ids": ["GET /jobs/{id}/runs/{run_id}/outputs"],
    "fetch_all": ["GET /jobs"],
    "generate_client / fetch_and_generate_client": ["GET /endpoints"],
    "civis_script": ["GET /jobs/{id}", "GET /jobs/{id}/runs/{run_id}"],
    "civis_ml (and the 11 civis_ml_* model helpers)": _CIVIS_ML,
    "civis_ml_fetch_existing": ["GET /scripts/custom/{id}", "GET /scripts/custom/{id}/runs", *_CIVIS_ML[4:]],
    "fetch_predictions / fetch_oos_scores": ["GET /files/{id}"],
    "get_train_template_id / get_job_type_version / get_script_fun": ["GET /templates/scripts"],
    "publish_html / publish_rmd": ["POST /files", "POST /reports", "PATCH /reports/{id}"],
    "civis_file / civis_table / civis_file_manifest / sql / get_status / get_error / get_metric": [],
}


T = "tests/unit/contract/test_strict_rules.py::"
# Rules the engine (emulator/civis_emulator/contract/) enforces for every request, named by rule id:
# (the spec's words, the behaviour, the test that shows it). The engine's rules found on implemented
# endpoints are listed with their fields; an engine rule missing here stops the script.
ENGINE_RULES: dict[str, tuple[str, str, str]] = {
    "one-of": ('"One of "fail", "truncate", ..." / "One or more of queued, running, ..." / "possible values are ..."',
               "400 naming the field and the allowed values (query values case-insensitive, comma lists item by item)",
               T + "test_query_one_of, test_query_one_or_more_of, test_body_one_of_names_the_allowed_values"),
    "output-level": ("\"For CASS enhancements, one of 'cass' or 'all.' For NCOA enhancements, one of 'cass', 'ncoa', "
                     "'coalesced' or 'all'\"", "400 naming the field and the values for the request's performNcoa",
                     T + "test_output_level_depends_on_ncoa"),
    "at-least": ('"Must be at least 2 shares." / "Must be at least 4 MB."', "400: the field and its minimum",
                 T + "test_at_least"),
    "maximum": ('"(maximum: 1000)"', "400: the field and its maximum", T + "test_maximum"),
    "range": ('"Must not be less than 15 minutes or greater than 36 hours."', "400: the range in seconds",
              T + "test_range_in_time_units"),
    "max-items": ('"Please provide a maximum of two."', "400: at most N items", T + "test_max_items"),
    "single-ascii": ('"Must be a single ASCII character."', "400", T + "test_single_ascii_character"),
    "retired": ('"This attribute is no longer available; defaults to false but cannot be used."',
                "400 when set to anything but its default", T + "test_retired_attributes"),
    "one-object": ('"Should contain only one of the following objects" / "Specify exactly one source."',
                   "400 naming the objects given", T + "test_only_one_source_object"),
    "required-if-flag": ("\"Required if 'performNcoa' is true.\"",
                         "400 on POST/PUT (a PATCH may rely on stored values)",
                         T + "test_required_if_flag"),
    "required-for-mode": ('"If the import mode is "upsert", this field is required"',
                          "400 on POST/PUT when existingTableRows is upsert", T + "test_upsert_needs_primary_keys"),
    "columns-when-dropped": ('"required if ... the table is being dropped" + "sqlType ... not required when appending"',
                             "400 on POST/PUT when existingTableRows is drop: tableColumns, each with sqlType",
                             T + "test_dropped_table_needs_typed_columns"),
    "custom-mapping": ('"If false, a custom column mapping must be provided."', "400 on POST/PUT without columnMapping",
                       T + "test_custom_column_mapping"),
    "not-with-template": ('"Cannot be set if this script uses a template script."',
                          "400 when templateScriptId is given",
                          T + "test_params_not_with_a_template"),
    "default-not-for-required": ('"Cannot be used for parameters that are required or a credential type."', "400",
                                 T + "test_default_not_for_required_or_credential_params"),
    "exclusive": ('"Cannot be present if group_ids is."', "400 naming both parameters",
                  T + "test_query_cannot_be_present_together"),
    "requires-value": ("\"'Dbsync' must be specified for 'type'.\"", "400 naming the needed value",
                       T + "test_query_needs_another_value"),
    "time-window": ('"Must be a time between now and 36 hours from now."', "400",
                    T + "test_download_link_expiry_window"),
}
# Rules with one place each (the engine's request/route layer, or a resource router owned by a colleague).
OTHER_RULES: list[tuple[str, str, str, str]] = [
    ("a (method, path) the spec does not have", "404 `{error, errorDescription, code}` before any route "
     "(except /_emulator/*, presigned routes, run pages, /endpoints)", "contract/middleware.py",
     T + "test_paths_the_spec_lacks_answer_404_in_the_api_shape"),
    ("a spec endpoint the emulator does not implement", "501 naming the endpoint", "errors.py",
     T + "test_spec_endpoints_the_emulator_lacks_answer_501_and_admin_routes_are_exempt"),
    ('"Defaults to its maximum of 50." / "Maximum allowed is 100." (41 list endpoints)',
     "a larger `limit` is **rejected** (400 naming limit, the maximum and page_num), not clamped: the spec says "
     "*allowed*, no example shows either, and a client within the maximum is right under both readings",
     "contract/described_rules.py", T + "test_limit_above_its_maximum_is_rejected"),
    ("parameters an operation does not declare (e.g. limit/page_num on GET /databases)",
     "dropped before the routes: no effect", "contract/described_rules.py",
     T + "test_undeclared_query_parameters_never_reach_the_routes"),
    ('"Must be one of: updated_at, name, ..." (order) / "either asc ... or desc" (order_dir)', "400",
     "contract/described_rules.py", T + "test_order_and_order_dir_choices"),
    ("`required` lists, types and `enum`s of request bodies and parameters", "400 naming the field (camelCase or "
     "snake_case as sent)", "contract/validators.py", T + "test_required_body_fields"),
    ('tableColumns "is required if the table does not exist" (and sqlType unless appending)',
     "400 on create/update, failed run otherwise (needs the table's state)", "runners/csv_import_rules.py (colleague)",
     "tests/integration/data_movement/test_csv_preprocess.py::"
     "test_import_into_a_new_or_dropped_table_needs_typed_table_columns"),
    ('"hidden: If specified to be true, returns hidden items. Defaults to false"', "hidden jobs left out of lists "
     "unless hidden=true", "routers/jobs.py, routers/scripts.py (colleagues)",
     "tests/integration/triggers/test_job_list_semantics.py::test_hidden_jobs_are_listed_only_when_asked_for"),
    ('forceCharacterSetConversion: "If false, the character set conversion will only run if the detected '
     'character set is not compatible with UTF-8"', "a file in another character set (Latin-1, cp1252, UTF-16) is "
     "converted either way; only a forced conversion rewrites UTF-8 (dropping its BOM) and discards what cannot be "
     "converted", "warehouse/charsets.py", "tests/integration/data_movement/test_csv_encoding.py::"
     "test_preprocess_converts_a_file_in_another_character_set_either_way"),
    ("a CSV import of a file that is not valid UTF-8 (the reason preprocessing converts)", "the run fails, whatever "
     "maxErrors says, naming the Civis file, the line and the fix (preprocess with forceCharacterSetConversion); "
     "nothing is loaded", "warehouse/importing.py", "tests/integration/data_movement/test_csv_encoding.py::"
     "test_an_import_of_a_file_that_is_not_utf8_fails_naming_the_fix"),
    ("order_dir desc on a field some items lack (never-run jobs)", "NULLs sort first descending, last ascending, as "
     "PostgreSQL orders", "common.py (colleague)", "tests/integration/triggers/test_job_list_semantics.py::"
     "test_never_run_jobs_sort_first_descending_and_last_ascending_as_postgresql_does"),
]
# Rules the spec states on implemented endpoints that need state or knowledge the emulator lacks.
NOT_ENFORCED: list[tuple[str, str]] = [
    ('lastModifiedKeys: "If the destination table does not exist, and the import mode is "upsert", this field is '
     'required."', "not a 400 when the import is created (that needs the table's state); its run fails instead "
     "(\"Upsert into a new table needs last modified keys\", warehouse/importing.py)"),
    ('maxErrors: "This option is not supported for Postgres databases."',
     "the emulator's warehouse answers as Redshift"),
    ('templateScriptId: "A script cannot both have a template script and be a template for other scripts."',
     "needs the template's state: not enforced"),
    ('identityColumn: "If more than one identity column is specified, an identity column must be specified for each '
     'table."', "not checkable from one sync: not enforced"),
    ('credentials type: "Other credential types cannot be created here, and accept edits to name and description '
     'only."', "routers/credentials.py checks types on create; edits by stored type are not enforced"),
]

# Where a client sees the emulator's tables change at other moments than it might on the platform.
TIMING: list[str] = [
    "## Where the emulator differs in time",
    "",
    "What a client sees *while* a run goes on or *just after* it ends. The spec says little here; these",
    "are the emulator's choices, so read a table only after its run ended (as the operators do).",
    "",
    "- **CSV imports, every mode but a delayed upsert** (`/imports/files/csv`, the generic imports' syncs):",
    "  one transaction per load (per sync for `/imports`), so a table's rows and `lastRefresh` change all at",
    "  once, while the run is still `running`, just before it ends `succeeded`; a failed load leaves its",
    "  table as it was. When Civis commits relative to the run's end is not documented.",
    "- **Upserts with `execution: \"delayed\"`** (the API's default; civis-python and the import operator",
    "  send `\"immediate\"`): the run ends `succeeded` first and the rows land about 3 s later",
    "  (`DELAYED_UPSERT_SECONDS` in `runners/data.py`; the spec says only \"after a brief delay\"), and",
    "  `lastRefresh` moves then, so a table-refresh watcher fires after the run's end. A failure at that",
    "  point shows in the emulator's log only, never in the run",
    "  (`tests/integration/differential/test_imports.py::"
    "test_upserted_rows_are_in_the_table_when_the_task_ends_unless_delayed`).",
    "- **Reads during an import** (queries, `GET /tables/{id}`, the table under `GET /databases/{id}/schemas`)",
    "  wait for it to end: the warehouse holds one lock per import, where Redshift would answer at once",
    "  from the table as it was.",
    "- **Column statistics** (`nullCount`, `rowCount`, ...) are computed when read, so they are current",
    "  at once in every mode; the spec says `execution: \"delayed\"` slows them on the platform.",
]


def rules_section(statuses: dict[str, int]) -> list[str]:
    """The doc's "Rules the emulator enforces": engine rules found on implemented endpoints, then the rest."""
    from civis_emulator.contract.described_rules import DescribedRules
    from civis_emulator.spec_index import get_index

    found: dict[str, set[str]] = {}

    def walk(node: Any, prefix: str, key: str) -> None:
        if node is None:
            return
        for name, checks in node.checks.items():
            for rule, _ in checks:
                found.setdefault(rule, set()).add(f"{key} {prefix}{name}")
        for name, child in node.children.items():
            walk(child, f"{prefix}{name}.", key)

    engine = DescribedRules()
    for key, op in get_index().operations.items():
        if statuses.get(key) in (None, 0, 501):
            continue
        rules = engine.for_operation(op)
        for name, checks in rules.query_checks.items():
            for rule, _ in checks:
                found.setdefault(rule, set()).add(f"{key} ?{name}")
        walk(rules.body, "", key)
    unknown = set(found) - set(ENGINE_RULES)
    if unknown:
        raise SystemExit(f"engine rules without a doc row in scripts/emulator_coverage.py: {sorted(unknown)}")
    lines = [
        "## Rules the emulator enforces",
        "",
        "Every request to the emulator passes one rule engine driven by the spec",
        "(`emulator/civis_emulator/contract/`: `validators.py` for the schemas, `described_rules.py` and",
        "`rule_text.py` (+ `rule_values.py`, `rule_relations.py`) for the rules written in descriptions)",
        "before any route sees it; a broken rule",
        "answers 400 (404 for paths) in the API's shape `{\"error\", \"errorDescription\", \"code\"}`, naming",
        "the field and the fix. The engine must never be stricter than the API: the 426 requests the spec's",
        "x-examples show the API accepting all pass it (`test_the_apis_own_accepted_examples_pass`).",
        "",
        "| The spec's words | Behaviour | Enforced in | Test |",
        "|---|---|---|---|",
    ]
    for words, behaviour, where, test in OTHER_RULES:
        lines.append(f"| {words} | {behaviour} | `{where}` | `{test}` |")
    for rule, (words, behaviour, test) in ENGINE_RULES.items():
        if rule in found:
            lines.append(f"| {words} | {behaviour} | `contract/rule_text.py` ({rule}) | `{test}` |")
    lines += ["", "Where the engine applies each description rule (implemented endpoints):", ""]
    for rule in ENGINE_RULES:
        if rule in found:
            lines.append(f"- **{rule}**: " + "; ".join(f"`{w}`" for w in sorted(found[rule])))
    lines += ["", "Rules the spec states that the emulator does not enforce (they need state it lacks):", ""]
    lines += [f"- {words}: {why}." for words, why in NOT_ENFORCED]
    return lines


def parse_python_seed(path: Path) -> dict[str, list[tuple[str, str]]]:
    """{class name: [(method, summary)]} from each class's "Methods" table."""
    classes: dict[str, list[tuple[str, str]]] = {}
    current = None
    in_table = False
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^class (\w+)\(session", line)
        if m:
            current, in_table = m.group(1), False
            classes[current] = []
            continue
        if current and line.strip() == "Methods":
            in_table = True
            continue
        if in_table:
            m = re.match(r"^([a-z_0-9]+)\((.*?)\)\s+(\S.*)$", line)
            if m:
                classes[current].append((m.group(1), m.group(3).strip()))
            elif line.strip():
                in_table = False
    return classes


def method_map(spec: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str, bool]]:
    """(resource, python method name) -> (HTTP method, spec template, deprecated)."""
    from civis.resources._resources import parse_method_name

    out: dict[tuple[str, str], tuple[str, str, bool]] = {}
    for template, ops in spec["paths"].items():
        stripped = template.strip("/")
        resource = stripped.split("/")[0].lower().replace("-", "_")
        for verb, op in ops.items():
            if not isinstance(op, dict):
                continue
            deprecated = "deprecated" in (op.get("summary") or "").lower()
            for legacy in (True, False):
                name = parse_method_name(verb, stripped, op, use_legacy_names=legacy)
                out.setdefault((resource, name), (verb.upper(), template, deprecated))
    return out


def _dummy(schema: dict[str, Any] | None, definitions: dict[str, Any], depth: int = 0) -> Any:
    """A minimal value the contract accepts for ``schema`` (required fields only)."""
    schema = schema or {}
    while "$ref" in schema:
        schema = definitions[schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("enum"):
        return schema["enum"][0]
    typ = schema.get("type") or ("object" if "properties" in schema else "string")
    described = _described_value(schema.get("description") or "", typ)
    if described is not None:
        return described
    if typ == "object":
        if depth > 6:
            return {}
        props = schema.get("properties") or {}
        return {k: _dummy(props.get(k), definitions, depth + 1) for k in schema.get("required") or ()}
    return {"integer": 1, "number": 1.0, "boolean": False, "array": []}.get(typ, "x")


def _described_value(description: str, typ: str) -> Any:
    """A value the rules written in the description accept ("One of ...", "Must be at least N")."""
    from civis_emulator.contract.rule_values import _ONE_OF, allowed_values

    if typ == "string":
        found = _ONE_OF.search(description)
        values = allowed_values(found.group(1)) if found else None
        return values[0] if values else None
    if typ in ("integer", "number"):
        found = re.search(r"Must be at least (\d+)", description)
        return int(found.group(1)) if found else None
    return None


def _state(code: int) -> str:
    return {501: "501", 0: "not in spec"}.get(code, "implemented")


class Prober:
    def __init__(self) -> None:
        from fastapi.testclient import TestClient

        from civis_emulator.app import create_app
        from civis_emulator.spec_index import get_index

        self.key = "coverage-probe-key"
        self.app = create_app(self.key)
        self.client = TestClient(self.app)
        self.client.__enter__()
        self.index = get_index()
        self.cache: dict[str, int] = {}

    def close(self) -> None:
        self.client.__exit__(None, None, None)

    def status(self, key: str) -> int:
        """HTTP status of a contract-valid probe of the operation ``METHOD /template``."""
        if key in self.cache:
            return self.cache[key]
        method, template = key.split(" ", 1)
        if template.rstrip("/") == "/endpoints":
            path = "/endpoints"
            op = None
        else:
            op = self.index.operations.get(f"{method} {template.rstrip('/') or '/'}")
            if op is None:
                self.cache[key] = 0
                return 0
            path = op.template
            for name, param in op.path_params.items():
                value = PROBE_ID if param.get("type") == "integer" else "probe"
                path = path.replace("{" + name + "}", value)
        params = {}
        body = None
        if op is not None:
            for name, param in op.query_params.items():
                if param.get("required"):
                    params[name] = _dummy(param, self.index.definitions)
            if op.body_param is not None:
                body = _dummy(op.body_param.get("schema"), self.index.definitions)
        response = self.client.request(
            method, path, params=params, json=body, headers={"Authorization": f"Bearer {self.key}"}
        )
        self.cache[key] = response.status_code
        return response.status_code


def build_rows(seed: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    from civis_emulator.spec import load_spec

    spec = load_spec()
    names = method_map(spec)
    prober = Prober()
    try:
        python_rows = []
        for cls, methods in parse_python_seed(seed).items():
            for name, summary in methods:
                hit = names.get((cls.lower(), name))
                row = {"resource": cls, "method": name, "summary": summary}
                if hit is None:
                    row.update(endpoint="(not in the civis 2.10.1 spec)", status="not in spec")
                else:
                    verb, template, deprecated = hit
                    code = prober.status(f"{verb} {template}")
                    row.update(
                        endpoint=f"{verb} {template.rstrip('/') or '/'}",
                        status=_state(code),
                        code=code,
                    )
                python_rows.append(row)
        r_rows = []
        for helper, endpoints in R_HELPERS.items():
            if not endpoints:
                r_rows.append({"helper": helper, "endpoints": {}, "status": "local (no API call)"})
                continue
            states = {e: _state(prober.status(e)) for e in endpoints}
            done = sum(1 for s in states.values() if s == "implemented")
            status = "implemented" if done == len(states) else ("501" if done == 0 else "partial")
            r_rows.append({"helper": helper, "endpoints": states, "status": status})
        statuses = {key: prober.status(key) for key in prober.index.operations}
    finally:
        prober.close()
    return python_rows, r_rows, statuses


def render(
    python_rows: list[dict[str, Any]], r_rows: list[dict[str, Any]], statuses: dict[str, int] | None = None
) -> tuple[str, str]:
    counts = Counter(r["status"] for r in python_rows)
    by_class: dict[str, Counter] = {}
    for r in python_rows:
        by_class.setdefault(r["resource"], Counter())[r["status"]] += 1
    r_counts = Counter(r["status"] for r in r_rows)
    total = len(python_rows)
    totals = (
        f"Python API resources: {total} methods in {len(by_class)} classes: "
        f"{counts['implemented']} implemented, {counts['501']} answer 501, "
        f"{counts['not in spec']} not in the civis 2.10.1 spec\n"
        f"R high-level helpers: {len(r_rows)} rows: {r_counts['implemented']} implemented, "
        f"{r_counts['partial']} partial, {r_counts['501']} answer 501, "
        f"{r_counts['local (no API call)']} local"
    )
    lines = [
        "# Emulator coverage",
        "",
        "Generated by `python scripts/emulator_coverage.py` (do not edit by hand). Each method of the",
        "Python client's API resources (seed reference, 13 classes) is mapped to its endpoint through",
        "the official spec (civis 2.10.1) with the client's own naming rule, then probed on an",
        "in-process emulator with a request the spec contract accepts: **501** means the emulator",
        "answers *not implemented*; anything else (200, 201, 404 for the dummy id, ...) means the",
        "route is implemented. *not in spec* marks methods of the (older) seed reference that the",
        "2.10.1 spec no longer has.",
        "",
        "## Totals",
        "",
        "```",
        totals,
        "```",
        "",
        "| Resource | Methods | Implemented | 501 | Not in spec |",
        "|---|---:|---:|---:|---:|",
    ]
    for cls, c in by_class.items():
        lines.append(f"| {cls} | {sum(c.values())} | {c['implemented']} | {c['501']} | {c['not in spec']} |")
    lines += ["", "## R client high-level helpers", "", "| Helper | Status | Endpoints needed |", "|---|---|---|"]
    for r in r_rows:
        eps = "; ".join(
            f"`{e}`" + ("" if s == "implemented" else f" ({s})") for e, s in r["endpoints"].items()
        ) or "none"
        lines.append(f"| `{r['helper']}` | {r['status']} | {eps} |")
    if statuses is not None:
        lines += [""] + rules_section(statuses)
    lines += [""] + TIMING
    lines += ["", "## Python API resources, method by method", ""]
    for cls in by_class:
        lines += [f"### {cls}", "", "| Method | Endpoint | Status |", "|---|---|---|"]
        for r in python_rows:
            if r["resource"] == cls:
                lines.append(f"| `{r['method']}` | `{r['endpoint']}` | {r['status']} |")
        lines.append("")
    return totals, "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=Path, default=None, help="the Python API resources reference (001_*.txt)")
    parser.add_argument("--out", type=Path, default=DOC)
    parser.add_argument("--check", action="store_true", help="exit 1 if --out is not up to date")
    args = parser.parse_args(argv)
    seed = args.seed or next(iter(sorted(glob.glob(str(SEEDS / "001_*.txt")))), None)
    if seed is None:
        parser.error(f"no seed reference found under {SEEDS} (use --seed)")
    warnings.simplefilter("ignore")
    python_rows, r_rows, statuses = build_rows(Path(seed))
    totals, doc = render(python_rows, r_rows, statuses)
    print(totals)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != doc:
            print(f"{args.out} is out of date: run scripts/emulator_coverage.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(doc, encoding="utf-8")
    print(f"wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
