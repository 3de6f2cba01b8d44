"""The contract report: responses checked, operations covered, violations."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

from civis_emulator.spec_index import Operation

MAX_RECORDED_VIOLATIONS = 500


class ContractReport:
    """What the middleware saw: responses checked, operations covered, violations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.id = uuid.uuid4().hex  # lets a collector merge snapshots of one report without double counting
        # True for apps built to break the contract on purpose (the contract's own tests):
        # all_reports() leaves them out, so they never fail the suite.
        self.exempt = False
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.responses_checked = 0
            self.operations: Counter[str] = Counter()
            self.requests_checked = 0
            self.requests_rejected = 0
            self.violations: list[dict[str, Any]] = []
            self.violation_count = 0
            self._seen: set[tuple[str, str, str]] = set()
            self.validation_seconds = 0.0

    def record_request(self, rejected: bool, seconds: float) -> None:
        with self._lock:
            self.requests_checked += 1
            self.requests_rejected += int(rejected)
            self.validation_seconds += seconds

    def record_response(
        self, op: Operation, path: str, status: int, problems: list[tuple[str, str]], seconds: float
    ) -> None:
        with self._lock:
            self.responses_checked += 1
            self.operations[op.key] += 1
            self.validation_seconds += seconds
            for field, message in problems:
                self.violation_count += 1
                key = (op.key, field, message)
                if key in self._seen or len(self.violations) >= MAX_RECORDED_VIOLATIONS:
                    continue
                self._seen.add(key)
                self.violations.append(
                    {
                        "method": op.method,
                        "path": path,
                        "operation": op.key,
                        "status": status,
                        "field": field,
                        "message": message,
                    }
                )

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "reportId": self.id,
                "responsesChecked": self.responses_checked,
                "operations": dict(sorted(self.operations.items())),
                "distinctOperations": len(self.operations),
                "requestsChecked": self.requests_checked,
                "requestsRejected": self.requests_rejected,
                "violationCount": self.violation_count,
                "violations": list(self.violations),
                "validationSeconds": round(self.validation_seconds, 6),
            }
