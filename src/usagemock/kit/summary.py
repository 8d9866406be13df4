"""A Markdown summary of a run, appended to a file: GitHub renders ``$GITHUB_STEP_SUMMARY``.

GitHub shows no JUnit file on its own; a step that appends Markdown to the file named by
``$GITHUB_STEP_SUMMARY`` shows on the run's page. One section per API: the verdict, a table of
every check with its kind, then each failure and note in a collapsed block (the same text as
the terminal's, token-free as every event is).
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from pathlib import Path

from usagemock.kit.events import Event, RunFinished, RunStarted, StageFinished
from usagemock.kit.report import describe, group, unwritable
from usagemock.kit.sources import source_of

#: Failing responses shown per (operation, check); the rest are counted.
SHOWN = 3


_ON_GITHUB = ' (on GitHub: --summary "$GITHUB_STEP_SUMMARY")'


class MarkdownSummary:
    """Appends one Markdown section per finished run to ``path``."""

    def __init__(self, path: Path, *, option: str = "--summary", title: str = "usagemock test"):
        self.path = path
        self.option = option
        """The flag that named ``path``, for errors."""
        self.title = title
        self._target = ""
        self._checks: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)

    def handle(self, event: Event) -> None:
        """Collect ``event``; a RunFinished appends its API's section."""
        if isinstance(event, RunStarted):
            self._target = event.target
        elif isinstance(event, StageFinished):
            for name, count in event.checks.items():
                self._checks[event.api][(event.operation, name)] += count
        else:
            self._append(self.section(event))

    def section(self, event: RunFinished) -> str:
        """The Markdown of one finished run."""
        failures, notes = group(event.failures), group(event.notes)
        mark = ":white_check_mark: PASSED" if event.passed else ":x: FAILED"
        against = f" against `{self._target}`" if self._target else ""
        lines = [
            f"### {self.title}: {event.api}{against}",
            "",
            f"{mark}: {len(failures)} check(s) broken, {len(notes)} note(s); "
            f"{event.requests} requests in {event.elapsed:.1f} s"
            + ("." if event.seed is None else f", seed {event.seed}."),
            "",
            "| | check | operation | kind | responses |",
            "|---|---|---|---|---|",
        ]
        counted = self._checks[event.api]
        for operation, check in sorted(set(counted) | set(failures) | set(notes)):
            found = failures.get((operation, check)) or notes.get((operation, check)) or []
            state = (
                ":x:"
                if (operation, check) in failures
                else ":memo:"
                if found
                else ":heavy_check_mark:"
            )
            count = len(found) if found else counted[(operation, check)]
            kind = source_of(event.api, check).kind.value
            lines.append(f"| {state} | `{check}` | {table_cell(operation)} | {kind} | {count} |")
        for heading, grouped in (("Failures", failures), ("Notes", notes)):
            if grouped:
                lines += ["", f"#### {heading}"]
            for (operation, check), findings in grouped.items():
                lines += [
                    "",
                    f"<details><summary><code>{html.escape(check)}</code> on "
                    f"{html.escape(operation)}: {len(findings)} response(s)</summary>",
                    "",
                    "<pre>",
                    html.escape("\n\n".join(describe(f) for f in findings[:SHOWN])),
                    "</pre>",
                    "</details>",
                ]
        return "\n".join(lines) + "\n\n"

    def check_writable(self) -> None:
        """Fail now, in one line, if the file cannot be appended to."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise unwritable(self.option, self.path, exc, _ON_GITHUB) from None

    def _append(self, text: str) -> None:
        try:
            with self.path.open("a", encoding="utf-8") as file:
                file.write(text)
        except OSError as exc:
            raise unwritable(self.option, self.path, exc, _ON_GITHUB) from None


def table_cell(value: str) -> str:
    """A table cell: pipes escaped, on one line."""
    return " ".join(value.replace("|", "\\|").split())
