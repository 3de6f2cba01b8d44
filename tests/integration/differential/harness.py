"""Record what a client asks the emulator, normalise it, and compare two clients' requests.

Normalising: a recording is cut into **phases** at each mutating request (POST, PUT, PATCH, DELETE).
Each mutating request is a step (consecutive repeats of one merge: parallel multipart parts are one
step); the reads between two of them are a set, each distinct (method, spec path template) one step at
its first occurrence. So polling (``GET .../runs/{run_id}`` a hundred times, interleaved with log
reads) is one step, yet a wrong endpoint (a step only one side has), a missing step, create/run in
the wrong order (a step both sides have, out of sequence) and a missing required body key (body keys
are compared per call, camelCase, union over its steps) all show.

A **difference** is keyed ``(operation, kind, call, detail)``:

- ``missing-call`` / ``extra-call``: the official client makes the call (or makes it more often) and
  we do not / the reverse;
- ``order``: both make the call as often, in a different position relative to the others;
- ``missing-key`` / ``extra-key``: both make the call, ``detail`` is a body key only one side sends.

``docs/differential.md`` lists every difference as *justified* (on purpose: it must occur), *open* (a
defect someone is fixing: it must occur until fixed, then the row moves) or *fixed* (it must not occur
again); :func:`check_against_table` fails on anything else.
"""

from __future__ import annotations

import difflib
import json
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KINDS = ("missing-call", "extra-call", "order", "missing-key", "extra-key")
TABLE_PATH = Path(__file__).resolve().parents[3] / "docs" / "differential.md"


def camel(name: str) -> str:
    """``existing_table_rows`` -> ``existingTableRows`` (civis-python and the spec name keys both ways)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class Recorder:
    """Reads ``GET /_emulator/requests`` of one emulator: ``mark()`` before, ``since(mark)`` after."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key

    def _get(self, since: int) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.base_url}/_emulator/requests?since={since}",
                                         headers={"Authorization": f"Bearer {self.api_key}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def mark(self) -> int:
        return int(self._get(2**62)["next"])

    def since(self, mark: int) -> list[dict[str, Any]]:
        return self._get(mark)["requests"]

    def record(self, fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, list[dict[str, Any]]]:
        """Call ``fn`` and return its result with the requests it made (nothing else may run meanwhile)."""
        start = self.mark()
        result = fn(*args, **kwargs)
        return result, self.since(start)


@dataclass(frozen=True)
class Step:
    method: str
    template: str
    body_keys: frozenset[str]

    @property
    def call(self) -> str:
        return f"{self.method} {self.template}"


MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def normalise(entries: list[dict[str, Any]]) -> list[Step]:
    """Mutating calls in order (consecutive repeats merged); the reads between them once each."""
    steps: list[tuple[str, str, set[str]]] = []
    reads_seen: set[tuple[str, str]] = set()
    for entry in entries:
        method, template = entry["method"], entry["template"]
        keys = {camel(k) for k in entry.get("bodyKeys") or ()}
        if method in MUTATING:
            reads_seen = set()
            if steps and steps[-1][:2] == (method, template):
                steps[-1][2].update(keys)
                continue
        elif (method, template) in reads_seen:
            continue
        else:
            reads_seen.add((method, template))
        steps.append((method, template, keys))
    return [Step(m, t, frozenset(k)) for m, t, k in steps]


@dataclass(frozen=True, order=True)
class Difference:
    operation: str
    kind: str
    call: str
    detail: str = ""

    def __str__(self) -> str:
        return f"| {self.operation} | {self.kind} | `{self.call}` | {self.detail} |"


def compare(operation: str, official: list[dict[str, Any]], ours: list[dict[str, Any]]) -> set[Difference]:
    a, b = normalise(official), normalise(ours)
    a_calls, b_calls = [s.call for s in a], [s.call for s in b]
    matched_a: set[int] = set()
    matched_b: set[int] = set()
    for block in difflib.SequenceMatcher(a=a_calls, b=b_calls, autojunk=False).get_matching_blocks():
        matched_a.update(range(block.a, block.a + block.size))
        matched_b.update(range(block.b, block.b + block.size))
    out: set[Difference] = set()
    for i, call in enumerate(a_calls):
        if i not in matched_a:
            kind = "missing-call" if a_calls.count(call) > b_calls.count(call) else "order"
            out.add(Difference(operation, kind, call))
    for j, call in enumerate(b_calls):
        if j not in matched_b and Difference(operation, "order", call) not in out:
            if b_calls.count(call) > a_calls.count(call):
                out.add(Difference(operation, "extra-call", call))
    theirs_keys = _keys_by_call(a)
    for call, mine in _keys_by_call(b).items():
        if call in theirs_keys:
            out.update(Difference(operation, "missing-key", call, k) for k in theirs_keys[call] - mine)
            out.update(Difference(operation, "extra-key", call, k) for k in mine - theirs_keys[call])
    return out


def _keys_by_call(steps: list[Step]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for step in steps:
        out.setdefault(step.call, set()).update(step.body_keys)
    return out


# -- the table ------------------------------------------------------------------------------------------
_ROW = re.compile(r"^\|\s*(?P<op>[^|]+?)\s*\|\s*(?P<kind>[^|]+?)\s*\|\s*`(?P<call>[^`]+)`\s*\|\s*(?P<detail>[^|]*?)\s*"
                  r"\|\s*(?P<why>[^|]*?)\s*\|\s*$")


@dataclass(frozen=True)
class Table:
    justified: dict[Difference, str]
    open: dict[Difference, str]
    fixed: dict[Difference, str]

    def rows(self) -> list[Difference]:
        return [*self.justified, *self.open, *self.fixed]


def load_table(path: Path = TABLE_PATH) -> Table:
    """Rows under ``## Justified ...``, ``## Open ...`` and ``## Fixed ...``; other text is prose."""
    sections: dict[str, dict[Difference, str]] = {"justified": {}, "open": {}, "fixed": {}}
    current: dict[Difference, str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            title = line[3:].strip().lower()
            current = next((rows for name, rows in sections.items() if title.startswith(name)), None)
            continue
        match = _ROW.match(line)
        if current is None or not match:
            continue
        diff = Difference(match["op"], match["kind"], match["call"], match["detail"])
        if diff.kind not in KINDS:
            raise ValueError(f"{path.name}: unknown kind {diff.kind!r} in row {line!r} (one of {KINDS})")
        if not match["why"]:
            raise ValueError(f"{path.name}: row {line!r} needs a one-line reason")
        if any(diff in rows for rows in sections.values()):
            raise ValueError(f"{path.name}: row {line!r} is listed twice")
        current[diff] = match["why"]
    return Table(sections["justified"], sections["open"], sections["fixed"])


def check_against_table(operation: str, found: set[Difference], table: Table | None = None) -> None:
    """Every difference found is a justified or open row; every such row of ``operation`` still occurs."""
    table = table or load_table()
    expected = {d for d in [*table.justified, *table.open] if d.operation == operation}
    unlisted = sorted(found - expected)
    gone = sorted(expected - found)
    problems = []
    if unlisted:
        regressed = [d for d in unlisted if d in table.fixed]
        new = [d for d in unlisted if d not in table.fixed]
        if regressed:
            problems.append("differences listed as FIXED occur again:\n" + "\n".join(map(str, regressed)))
        if new:
            problems.append("differences not in docs/differential.md (fix them, or add a justified row):\n"
                            + "\n".join(map(str, new)))
    if gone:
        problems.append("justified or open rows that no longer occur (move them to 'Fixed differences'):\n"
                        + "\n".join(map(str, gone)))
    assert not problems, f"{operation}:\n" + "\n\n".join(problems)


def describe(entries: list[dict[str, Any]]) -> str:
    """The normalised steps, one a line, for assertion messages and for writing new table rows."""
    return "\n".join(f"  {s.call} {sorted(s.body_keys) if s.body_keys else ''}" for s in normalise(entries))
