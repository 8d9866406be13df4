"""The contract-test kit: checks any server (the mock or a deployment) against a bundled spec.

It depends on the specs, the rules and schemathesis, never on the mock: ``usagemock.web`` and
``usagemock.domain`` are out of bounds here (``tests/test_architecture.py`` holds that).
"""

from __future__ import annotations

from usagemock.kit.events import Event, Finding, RunFinished, RunStarted, StageFinished
from usagemock.kit.plan import DEFAULT_MAX_EXAMPLES, DEFAULT_SAMPLES, Plan
from usagemock.kit.report import JUnitReport, TerminalReport
from usagemock.kit.runner import run
from usagemock.kit.targets import Target, TargetError
from usagemock.rules import DEFAULT_CLOCK_SKEW

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "DEFAULT_MAX_EXAMPLES",
    "DEFAULT_SAMPLES",
    "Event",
    "Finding",
    "JUnitReport",
    "Plan",
    "RunFinished",
    "RunStarted",
    "StageFinished",
    "Target",
    "TargetError",
    "TerminalReport",
    "run",
]
