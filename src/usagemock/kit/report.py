"""Handlers of run events: a terminal summary and a JUnit XML file for CI.

Each check is shown with its kind (documented, inferred, assumed) and its source (the vendor's
sentence or spec pointer, and the reasoning when inferred), so a report alone is enough to argue
with the vendor. Notes (a server choosing otherwise where the vendor leaves a choice open) are
listed apart from failures and do not fail the run unless it is strict.

Handlers never print: the terminal report writes through the function it is given (the CLI
passes ``click.echo``), so only the CLI touches stdout. Events carry no token, so neither can
a report.
"""

from __future__ import annotations

import tempfile
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from usagemock.errors import UsageMockError
from usagemock.kit.checks import STATEMENTS
from usagemock.kit.events import Event, Finding, RunFinished, RunStarted, StageFinished
from usagemock.kit.sources import source_of

Write = Callable[[str], None]
#: Failing responses shown in full per (operation, check) and stage; the rest are counted.
SHOWN_PER_CHECK = 1


def group(findings: Iterable[Finding]) -> dict[tuple[str, str], list[Finding]]:
    """Findings by (operation, check), in the order first seen."""
    grouped: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        grouped[(finding.operation, finding.check)].append(finding)
    return grouped


class TerminalReport:
    """A readable summary: stages per operation, each check's tally, then every failure."""

    def __init__(self, write: Write, *, rerun: str = "usagemock test") -> None:
        self.write = write
        self.rerun = rerun
        """The command line (without --seed) a failure tells the reader to rerun."""
        self._checks: dict[str, Counter[str]] = defaultdict(Counter)
        self._strict = False

    def handle(self, event: Event) -> None:
        """Write what ``event`` adds to the summary."""
        if isinstance(event, RunStarted):
            self._checks.clear()
            self._strict = event.strict
            orgs = ", ".join(event.org_ids) or "none given"
            self.write(
                f"usagemock test: {event.api} against {event.target}\n"
                f"  seed {event.seed}, {event.max_examples} examples per phase, "
                f"{event.samples} samples per known org (orgs: {orgs})"
            )
        elif isinstance(event, StageFinished):
            self._stage(event)
        else:
            self._finished(event)

    def _stage(self, event: StageFinished) -> None:
        where = f"  {event.stage:<9} {event.operation}"
        if event.skipped is not None:
            self.write(f"{where}: skipped ({event.skipped})")
            return
        for finding in event.findings:
            self._checks[finding.operation][f"{self._mark(finding)}{finding.check}"] += 1
        for name, count in event.checks.items():
            self._checks[event.operation][name] += count
        broken = len({f.check for f in event.findings if self._mark(f) == "!"})
        noted = len({f.check for f in event.findings if self._mark(f) == "~"})
        verdict = f"{broken} check(s) failed" if broken else "ok"
        if noted:
            verdict += f", {noted} note(s)"
        if event.refused_by_http:
            verdict += (
                f" ({event.refused_by_http} not valid HTTP, answered 400 by the HTTP parser: "
                "not judged)"
            )
        self.write(f"{where}: {event.requests} requests, {verdict}")

    def _finished(self, event: RunFinished) -> None:
        for operation, counts in self._checks.items():
            self.write(f"\nChecks on {operation}:")
            names = sorted({name.lstrip("!~") for name in counts})
            for name in names:
                failed, noted = counts[f"!{name}"], counts[f"~{name}"]
                source = source_of(event.api, name)
                mark = "FAIL" if failed else "NOTE" if noted else "ok  "
                tally = (
                    f"{failed or noted} response(s)"
                    if failed or noted
                    else f"{counts[name]} responses"
                )
                statement = STATEMENTS.get(name)
                about = f" - {statement}" if statement else ""
                self.write(f"  {mark} {name}: {tally}{about}")
                self.write(f"         {source.cite()}")
        failures, notes = group(event.failures), group(event.notes)
        self._list(f"Failures ({event.api})", failures, event.seed)
        self._list(
            f"Notes ({event.api}: the server chose otherwise where the vendor leaves it open;"
            " not failures unless --strict)",
            notes,
            event.seed,
        )
        verdict = (
            "PASSED"
            if event.passed
            else f"FAILED: {len(failures)} check(s) broken in {len(event.failures)} response(s)"
        )
        if notes:
            verdict += f", {len(notes)} note(s)"
        self.write(
            f"\n{event.api}: {verdict}; {event.requests} requests in {event.elapsed:.1f} s "
            f"({event.rate:.0f}/s)" + ("" if event.seed is None else f", seed {event.seed}") + "\n"
        )

    def _mark(self, finding: Finding) -> str:
        """How a finding counts in the tally: ``!`` a failure, ``~`` a note."""
        return "~" if finding.note and not self._strict else "!"

    def _list(
        self, heading: str, grouped: dict[tuple[str, str], list[Finding]], seed: int | None
    ) -> None:
        if grouped:
            self.write(f"\n{heading}:")
        for number, ((operation, check), findings) in enumerate(grouped.items(), 1):
            stages: dict[str, list[Finding]] = defaultdict(list)
            for finding in findings:
                stages[finding.stage].append(finding)
            where = ", ".join(f"{len(found)} in {stage}" for stage, found in stages.items())
            self.write(f"\n{number}. {check} on {operation}: {len(findings)} response(s) ({where})")
            # Examples from every stage, so each stage line that counts one has one here.
            shown = [finding for found in stages.values() for finding in found[:SHOWN_PER_CHECK]]
            self.write("\n\n".join(textwrap.indent(describe(f), "   ") for f in shown))
            if seed is not None:
                self.write(f"   Replay the run: {self.rerun} --seed {seed}")


def describe(finding: Finding) -> str:
    """One failure or note in full: rule, its kind and source, request, response, curl, seed.

    Traffic the kit did not make (``usagemock proxy``) has no seed, so no seed line.
    """
    lines = [f"{'Note' if finding.note else 'Broken'}: {finding.title}"]
    if finding.source:
        lines.append(f"  Source: {finding.source}")
    lines += [f"  {line}" for line in finding.message.splitlines() if line.strip()]
    lines.append(f"Stage: {finding.stage}")
    if finding.earlier:
        lines.append(f"Earlier response: {finding.earlier}")
    if finding.url:
        lines.append(f"Request: {finding.method} {finding.url}")
    if finding.status is not None:
        lines.append(f"Response: {finding.status} {finding.content_type or '(no content type)'}")
        if finding.body:
            lines.append(f"  {finding.body}")
    lines.append(f"Reproduce with: {finding.curl}")
    if finding.seed is not None:
        lines.append(f"Seed: {finding.seed}")
    return "\n".join(lines)


class ReportError(UsageMockError):
    """A report file cannot be written where it was asked for."""


def unwritable(option: str, path: Path, exc: OSError, hint: str = "") -> ReportError:
    """The error for a report file ``option`` names that cannot be written, saying why."""
    reason = exc.strerror or type(exc).__name__
    return ReportError(
        f"{option} {path}: cannot write there ({reason}); pass a file path in a "
        f"directory you can write to{hint}."
    )


class JUnitReport:
    """JUnit XML: a test suite per API, a test case per operation and check, failures inside."""

    def __init__(self, path: Path, *, option: str = "--junit") -> None:
        self.path = path
        self.option = option
        """The flag that named ``path``, for errors."""
        self._root = ET.Element("testsuites", name="usagemock contract tests")
        self._checks: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self._skipped: dict[str, list[StageFinished]] = defaultdict(list)

    def handle(self, event: Event) -> None:
        """Collect ``event``; the file is written when a run finishes (rewritten after each API)."""
        if isinstance(event, StageFinished):
            if event.skipped is not None:
                self._skipped[event.api].append(event)
            for name in event.checks:
                self._checks[event.api].add((event.operation, name))
        elif isinstance(event, RunFinished):
            self._suite(event)
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                ET.ElementTree(self._root).write(self.path, encoding="utf-8", xml_declaration=True)
            except OSError as exc:
                raise unwritable(self.option, self.path, exc) from None

    def check_writable(self) -> None:
        """Fail now, in one line, if the file cannot be written: not after a long run.

        Writes a throw-away file beside it (permission bits alone do not say: root passes
        them, and /proc refuses root); an existing file is opened to append, so stays as it is.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.path.parent):
                pass
            if self.path.exists():
                with self.path.open("ab"):
                    pass
        except OSError as exc:
            raise unwritable(self.option, self.path, exc) from None

    def _suite(self, event: RunFinished) -> None:
        failures, notes = group(event.failures), group(event.notes)
        cases = sorted(self._checks[event.api] | set(failures) | set(notes))
        suite = ET.SubElement(
            self._root,
            "testsuite",
            name=f"usagemock {event.api}",
            tests=str(len(cases) + len(self._skipped[event.api])),
            failures=str(len(failures)),
            errors="0",
            skipped=str(len(self._skipped[event.api])),
            time=f"{event.elapsed:.3f}",
        )
        if event.seed is not None:
            ET.SubElement(
                ET.SubElement(suite, "properties"), "property", name="seed", value=str(event.seed)
            )
        for operation, check in cases:
            case = ET.SubElement(
                suite, "testcase", classname=f"{event.api}.{operation}", name=check
            )
            source = source_of(event.api, check)
            properties = ET.SubElement(case, "properties")
            ET.SubElement(properties, "property", name="kind", value=source.kind.value)
            ET.SubElement(properties, "property", name="source", value=source.cite())
            findings = failures.get((operation, check))
            if findings:
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=f"{findings[0].title} ({len(findings)} failing response(s)); "
                    f"{source.cite()}",
                    type=check,
                )
                failure.text = "\n\n".join(describe(f) for f in findings[:10])
            noted = notes.get((operation, check))
            if noted:  # a note passes: CI shows it as output, not as a failure
                ET.SubElement(case, "system-out").text = "\n\n".join(
                    describe(f) for f in noted[:10]
                )
        for stage in self._skipped[event.api]:  # not run, and why: never a silent skip
            case = ET.SubElement(
                suite, "testcase", classname=f"{event.api}.{stage.operation}", name=stage.stage
            )
            ET.SubElement(case, "skipped", message=stage.skipped or "")
