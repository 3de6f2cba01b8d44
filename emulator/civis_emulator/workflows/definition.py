"""Read a workflow definition (Mistral v2 YAML) into a :class:`Definition`, or say which line is wrong.

The checks civis-python makes before it sends a definition (``civis.workflows.validate_workflow_yaml``:
ASCII only, ``version: "2.0"``, one workflow, known task keys and actions, ``civis.run_job`` takes exactly
``job_id``, no transition to itself or to an undefined task) are made here too, each error naming its line.
On top of them, what the emulator cannot run is refused with the same kind of error, never run half-way:

* actions ``civis.run_job`` (a run of an existing job), ``std.noop``, ``std.echo`` and ``std.fail``;
* direct workflows: ``on-success`` / ``on-error`` / ``on-complete`` (a task name, a list of them, or
  ``{next: ...}``; the engine commands ``succeed`` and ``fail``) and ``join`` (``all`` or a number);
* reverse workflows: ``requires`` (executions give ``targetTask``);
* ``pause-before: true`` (the execution pauses until ``/resume``);
* input values ``<% $.name %>`` naming one of the workflow's ``input`` (other YAQL is refused).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

ENGINE_COMMANDS = frozenset({"succeed", "fail"})
SUPPORTED_ACTIONS = ("civis.run_job", "std.noop", "std.echo", "std.fail")
#: Every action civis-python's schema knows (``civis/workflows/_schemas.py``).
KNOWN_ACTIONS = frozenset({
    "civis.scripts.python3", "civis.scripts.r", "civis.scripts.sql", "civis.scripts.javascript",
    "civis.scripts.container", "civis.scripts.dbt", "civis.scripts.custom", "civis.enhancements.cass_ncoa",
    "civis.import", "civis.run_job", "civis.workflows.execute", "std.async_noop", "std.echo", "std.fail",
    "std.noop",
})
#: Task keys Mistral v2 has (civis-python's TASK_SCHEMA), and the ones the emulator runs.
KNOWN_TASK_KEYS = frozenset({
    "name", "description", "action", "input", "publish", "publish-on-error", "on-success", "on-error",
    "on-complete", "join", "requires", "with-items", "keep-result", "target", "pause-before", "wait-before",
    "wait-after", "fail-on", "timeout", "retry", "concurrency", "safe-rerun",
})
SUPPORTED_TASK_KEYS = frozenset({
    "description", "action", "input", "on-success", "on-error", "on-complete", "join", "requires", "pause-before",
})
TRANSITIONS = ("on-success", "on-error", "on-complete")
_EXPRESSION = re.compile(r"^\s*<%\s*\$\.([A-Za-z_][A-Za-z0-9_]*)\s*%>\s*$")


class DefinitionError(ValueError):
    """A definition the emulator cannot run; the message names the line."""


@dataclass(frozen=True)
class Task:
    name: str
    line: int
    action: str
    input: dict[str, Any]
    on_success: tuple[str, ...] = ()
    on_error: tuple[str, ...] = ()
    on_complete: tuple[str, ...] = ()
    join: int | str | None = None
    requires: tuple[str, ...] = ()
    pause_before: bool = False


@dataclass(frozen=True)
class Definition:
    name: str
    type: str  # "direct" | "reverse"
    inputs: tuple[str, ...]  # every input the workflow declares
    defaults: dict[str, Any] = field(default_factory=dict)  # inputs that have a default
    tasks: dict[str, Task] = field(default_factory=dict)

    @property
    def required_inputs(self) -> list[str]:
        return [name for name in self.inputs if name not in self.defaults]

    def inbound(self, name: str) -> list[str]:
        """Tasks that name ``name`` in any transition (what ``join: all`` waits for)."""
        return [t.name for t in self.tasks.values() if name in (*t.on_success, *t.on_error, *t.on_complete)]

    def start_tasks(self) -> list[str]:
        """A direct workflow starts with the tasks no transition leads to."""
        targets = {n for t in self.tasks.values() for n in (*t.on_success, *t.on_error, *t.on_complete)}
        return [name for name in self.tasks if name not in targets]

    def closure(self, target: str) -> list[str]:
        """A reverse workflow's ``target`` and everything it requires, requirements first."""
        order: list[str] = []

        def visit(name: str) -> None:
            if name in order:
                return
            for required in self.tasks[name].requires:
                visit(required)
            order.append(name)

        visit(target)
        return order


def _lines(text: str) -> dict[tuple[str, ...], int]:
    """1-based line of every mapping key, by its path (``("wf", "tasks", "a", "action")``)."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    here = (*path, key.value)  # not inline: mypy reads d[(*a, b)] as 3.11's d[*a, b]
                    lines[here] = key.start_mark.line + 1
                    walk(value, here)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                here = (*path, str(index))
                lines[here] = item.start_mark.line + 1
                walk(item, here)

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return lines


def parse_definition(text: Any) -> Definition:
    """The definition, or ``DefinitionError("line N: ...")`` for the first thing wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise DefinitionError("definition must be a non-empty YAML string")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.isascii():
            raise DefinitionError(f"line {number}: workflow definitions must be ASCII only: {line.strip()!r}")
    try:
        data = yaml.safe_load(text)
        lines = _lines(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "line 1"
        raise DefinitionError(f"{where}: not valid YAML: {getattr(err, 'problem', None) or err}") from None
    return _Reader(lines).definition(data)


class _Reader:
    def __init__(self, lines: dict[tuple[str, ...], int]) -> None:
        self.lines = lines

    def fail(self, path: tuple[str, ...], message: str) -> DefinitionError:
        while path and path not in self.lines:
            path = path[:-1]
        return DefinitionError(f"line {self.lines.get(path, 1)}: {message}")

    def definition(self, data: Any) -> Definition:
        if not isinstance(data, dict):
            raise self.fail((), "the definition must be a mapping with 'version' and one workflow")
        if data.get("version") != "2.0":
            raise self.fail(("version",), "version must be the string '2.0' (quote it: version: '2.0')")
        names = [key for key in data if key != "version"]
        if len(names) != 1:
            raise self.fail((), f"the definition must hold exactly one workflow besides 'version', found {names}")
        name = str(names[0])
        body = data[names[0]]
        if not isinstance(body, dict):
            raise self.fail((name,), f"workflow {name!r} must be a mapping with 'tasks'")
        kind = body.get("type", "direct")
        if kind not in ("direct", "reverse"):
            raise self.fail((name, "type"), f"type must be 'direct' or 'reverse', got {kind!r}")
        if "task-defaults" in body:
            raise self.fail((name, "task-defaults"), "task-defaults is not supported by the Civis emulator")
        inputs, defaults = self.inputs(name, body.get("input", []))
        raw_tasks = body.get("tasks")
        if not isinstance(raw_tasks, dict) or not raw_tasks:
            raise self.fail((name, "tasks"), f"workflow {name!r} needs a 'tasks' mapping with at least one task")
        tasks = {str(t): self.task(name, str(t), spec, inputs) for t, spec in raw_tasks.items()}
        definition = Definition(name, kind, tuple(inputs), defaults, tasks)
        self.check_links(name, definition)
        return definition

    def inputs(self, name: str, raw: Any) -> tuple[list[str], dict[str, Any]]:
        if not isinstance(raw, list):
            raise self.fail((name, "input"), "input must be a list of names (or {name: default})")
        inputs: list[str] = []
        defaults: dict[str, Any] = {}
        for index, item in enumerate(raw):
            if isinstance(item, str):
                inputs.append(item)
            elif isinstance(item, dict) and len(item) == 1:
                key, value = next(iter(item.items()))
                inputs.append(str(key))
                defaults[str(key)] = value
            else:
                raise self.fail((name, "input", str(index)), f"input item {item!r} must be a name or {{name: default}}")
        return inputs, defaults

    def task(self, wf: str, name: str, spec: Any, inputs: list[str]) -> Task:
        path = (wf, "tasks", name)
        if name in ("noop", "fail", "succeed", "pause"):
            raise self.fail(path, f"task name {name!r} is reserved by the workflow engine")
        if not isinstance(spec, dict):
            raise self.fail(path, f"task {name!r} must be a mapping with an 'action'")
        for key in spec:
            if key not in KNOWN_TASK_KEYS:
                raise self.fail((*path, key), f"task {name!r}: unknown key {key!r}")
            if key not in SUPPORTED_TASK_KEYS:
                raise self.fail((*path, key), f"task {name!r}: {key!r} is not supported by the Civis emulator "
                                              f"(supported: {', '.join(sorted(SUPPORTED_TASK_KEYS))})")
        action = spec.get("action")
        if action is None:
            raise self.fail(path, f"task {name!r} has no 'action'")
        if action not in KNOWN_ACTIONS:
            raise self.fail((*path, "action"), f"task {name!r}: unknown action {action!r}")
        if action not in SUPPORTED_ACTIONS:
            raise self.fail((*path, "action"), f"task {name!r}: action {action!r} is not supported by the Civis "
                                               f"emulator (supported: {', '.join(SUPPORTED_ACTIONS)})")
        raw_input = spec.get("input", {})
        if not isinstance(raw_input, dict):
            raise self.fail((*path, "input"), f"task {name!r}: input must be a mapping")
        if action == "civis.run_job":
            if set(raw_input) != {"job_id"}:
                raise self.fail((*path, "input"), f"task {name!r}: civis.run_job takes exactly one input, job_id")
            job_id = raw_input["job_id"]
            if not (isinstance(job_id, int) and not isinstance(job_id, bool) and job_id > 0):
                self.expression((*path, "input", "job_id"), name, job_id, inputs)
        else:
            for key, value in raw_input.items():
                if isinstance(value, str) and "<%" in value:
                    self.expression((*path, "input", str(key)), name, value, inputs)
        join = spec.get("join")
        if join is not None and join != "all" and not (isinstance(join, int) and join >= 1):
            raise self.fail((*path, "join"), f"task {name!r}: join must be 'all' or a number >= 1, got {join!r}")
        requires = spec.get("requires", [])
        if isinstance(requires, str):
            requires = [requires]
        if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
            raise self.fail((*path, "requires"), f"task {name!r}: requires must be a list of task names")
        pause = spec.get("pause-before", False)
        if not isinstance(pause, bool):
            raise self.fail((*path, "pause-before"), f"task {name!r}: pause-before must be true or false")
        return Task(
            name=name, line=self.lines.get(path, 1), action=action, input=dict(raw_input),
            on_success=self.transitions(path, name, "on-success", spec.get("on-success")),
            on_error=self.transitions(path, name, "on-error", spec.get("on-error")),
            on_complete=self.transitions(path, name, "on-complete", spec.get("on-complete")),
            join=join, requires=tuple(requires), pause_before=pause,
        )

    def expression(self, path: tuple[str, ...], task: str, value: Any, inputs: list[str]) -> None:
        found = _EXPRESSION.match(value) if isinstance(value, str) else None
        if found is None:
            raise self.fail(path, f"task {task!r}: {value!r} must be a positive integer or '<% $.name %>' naming "
                                  "a workflow input (other YAQL is not supported by the Civis emulator)")
        if found.group(1) not in inputs:
            raise self.fail(path, f"task {task!r}: {value!r} names no input of the workflow (inputs: {inputs})")

    def transitions(self, path: tuple[str, ...], task: str, key: str, raw: Any) -> tuple[str, ...]:
        if raw is None:
            return ()
        if isinstance(raw, dict):
            return self.transitions((*path, key), task, "next", raw.get("next"))
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list):
            raise self.fail((*path, key), f"task {task!r}: {key} must be a task name or a list of them")
        names = []
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise self.fail((*path, key, str(index)), f"task {task!r}: {key} guards ({item!r}) are not "
                                                          "supported by the Civis emulator; give plain task names")
            names.append(item)
        return tuple(names)

    def check_links(self, wf: str, definition: Definition) -> None:
        tasks = definition.tasks
        for task in tasks.values():
            path = (wf, "tasks", task.name)
            for key in TRANSITIONS:
                targets = getattr(task, key.replace("-", "_"))
                if targets and definition.type == "reverse":
                    raise self.fail((*path, key), f"task {task.name!r}: {key} belongs in direct workflows; "
                                                  "a reverse workflow uses requires")
                for target in targets:
                    if target == task.name:
                        raise self.fail((*path, key), f"A task cannot transition to itself. {task.name!r} "
                                                      f"transitions to itself in {key!r}.")
                    if target not in tasks and target not in ENGINE_COMMANDS:
                        raise self.fail((*path, key), f"Task {task.name!r} transitions to an undefined task "
                                                      f"{target!r} in {key!r}.")
            if task.requires and definition.type != "reverse":
                raise self.fail((*path, "requires"), f"task {task.name!r}: requires needs 'type: reverse'")
            for required in task.requires:
                if required not in tasks:
                    raise self.fail((*path, "requires"), f"task {task.name!r} requires an undefined task {required!r}")
        if definition.type == "reverse":
            for name in tasks:
                self._no_cycle(wf, definition, name, ())

    def _no_cycle(self, wf: str, definition: Definition, name: str, chain: tuple[str, ...]) -> None:
        if name in chain:
            raise self.fail((wf, "tasks", name, "requires"), f"requires forms a cycle: {' -> '.join((*chain, name))}")
        for required in definition.tasks[name].requires:
            self._no_cycle(wf, definition, required, (*chain, name))


def resolve_input(value: Any, inputs: dict[str, Any]) -> Any:
    """An input value with ``<% $.name %>`` replaced by the execution's input of that name."""
    found = _EXPRESSION.match(value) if isinstance(value, str) else None
    return inputs.get(found.group(1)) if found else value
