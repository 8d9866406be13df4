"""Reports: the terminal summary's shape, valid JUnit XML listing failures, never the token."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from starlette.responses import JSONResponse, Response

from tests.kit.broken_servers import BROKEN, TOKEN, Call, kenbun_app, timbal_app
from tests.kit.conformant_servers import CONFORMANT
from tests.kit.conftest import run_kit
from usagemock.errors import UsageMockError
from usagemock.kit import JUnitReport, RunFinished, TerminalReport
from usagemock.kit.events import Event

SNAPSHOTS = Path(__file__).parent / "snapshots"


def render(events: list[Event]) -> str:
    """The terminal report of ``events``, as one string."""
    lines: list[str] = []
    report = TerminalReport(lines.append, rerun="usagemock test --api kenbun")
    for event in events:
        report.handle(event)
    return "\n".join(lines)


#: What differs between two runs of one seed: the run's time and rate, and the moments in a body
#: (the billing cycle is the one today falls in). Counts, statuses and the seed stay exact.
VARYING = (
    (re.compile(r"in \d+(\.\d+)? s \(\d+/s\)"), "in N s (N/s)"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<moment>"),
)


def shape(text: str) -> str:
    """``text`` with what varies between runs of one seed masked, so the snapshot holds the rest."""
    for pattern, mask in VARYING:
        text = pattern.sub(mask, text)
    return text


def test_terminal_report_shape_matches_snapshot() -> None:
    """The summary lists stages, checks, and each failure: rule, request, response, curl, seed."""
    broken = next(b for b in BROKEN if b.name == "overage_true_at_the_limit")
    actual = shape(render(run_kit("kenbun", broken.app(), seed=4, samples=10)))
    snapshot = SNAPSHOTS / "terminal_kenbun_overage_at_limit.txt"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        snapshot.write_text(actual + "\n")
    assert actual + "\n" == snapshot.read_text()


def test_terminal_report_of_a_pass_says_passed_with_rate_and_seed() -> None:
    """A clean run ends with PASSED, the request count, the rate and the seed."""
    text = render(run_kit("kenbun", kenbun_app(), seed=9, samples=5))
    assert re.search(r"kenbun: PASSED; \d+ requests in [\d.]+ s \(\d+/s\), seed 9", text)
    assert "Failures" not in text


def test_junit_xml_is_valid_and_lists_each_broken_check(tmp_path: Path) -> None:
    """The JUnit file parses, counts failures, and names the broken check as a failed test case."""
    path = tmp_path / "reports" / "contract.xml"
    report = JUnitReport(path)
    broken = next(b for b in BROKEN if b.name == "trial_ends_at_while_active")
    for event in run_kit("kenbun", broken.app(), samples=10):
        report.handle(event)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "usagemock kenbun"
    failed = {
        case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None
    }
    assert "kenbun_trial_only_when_trialing" in failed
    assert int(suite.get("failures", "0")) == len(failed)
    assert int(suite.get("tests", "0")) > len(failed)  # the passing checks are listed too
    failure = suite.find("testcase/failure")
    assert failure is not None and "Reproduce with: curl" in (failure.text or "")


def _echo_token_and_ignore_ownership(call: Call, response: Response) -> Response:
    if response.status_code == 403:  # leaks the caller's header, as a careless server might
        return JSONResponse({"code": "FORBIDDEN", "message": f"token {call.authorization}"}, 200)
    return response


def test_no_report_ever_shows_the_token(tmp_path: Path) -> None:
    """Even when the server echoes the token back, reports mask it and curl uses the variable."""
    path = tmp_path / "contract.xml"
    events = run_kit("timbal", timbal_app(response_bug=_echo_token_and_ignore_ownership))
    report = JUnitReport(path)
    for event in events:
        report.handle(event)
    text = render(events)
    assert "Failures" in text and "token Bearer ***" in text
    assert 'Authorization: Bearer $USAGEMOCK_TOKEN"' in text
    assert TOKEN not in text
    assert TOKEN not in path.read_text()


def test_every_stage_that_failed_has_an_example_in_the_failure_list() -> None:
    """A stage line saying "N check(s) failed" is backed by a failing response of that stage."""
    broken = next(b for b in BROKEN if b.name == "overage_true_at_the_limit")
    text = render(run_kit("kenbun", broken.app(), seed=4, samples=10))
    failed = set(
        re.findall(r"^  (\w+) +GET /usage: \d+ requests, \d+ check\(s\) failed$", text, re.M)
    )
    shown = set(re.findall(r"^   Stage: (\w+)$", text, re.M))
    assert len(failed) >= 2
    assert failed == shown


def test_notes_are_listed_apart_and_do_not_fail_the_run(tmp_path: Path) -> None:
    """A choice the vendor leaves open shows under Notes with its kind and why; the run passes."""
    server = next(c for c in CONFORMANT if c.name == "json_code_message_401")
    events = run_kit("kenbun", server.app(), samples=3)
    text = render(events)
    assert "Failures" not in text
    notes = text[text.index("Notes (kenbun") :]
    assert "Note: " in notes and "Source: assumed:" in notes
    assert "Kenbun documents no error body" in notes and "application/problem+json" in notes
    assert re.search(r"kenbun: PASSED, 1 note\(s\)", text)
    assert re.search(r"NOTE mock_spec_conformance", text)
    path = tmp_path / "contract.xml"
    report = JUnitReport(path)
    for event in events:
        report.handle(event)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    assert suite.find("properties/property[@name='seed']") is not None  # the run's, to replay it
    noted = next(c for c in suite.iter("testcase") if c.get("name") == "mock_spec_conformance")
    assert "Kenbun documents no error body" in (noted.findtext("system-out") or "")


def test_each_junit_check_names_its_kind_and_source(tmp_path: Path) -> None:
    """Every test case in the JUnit file carries the kind and source of its check."""
    path = tmp_path / "contract.xml"
    report = JUnitReport(path)
    broken = next(b for b in BROKEN if b.name == "overage_true_at_the_limit")
    for event in run_kit("kenbun", broken.app(), samples=3):
        report.handle(event)
    cases = list(ET.parse(path).getroot().iter("testcase"))
    for case in cases:
        if case.find("skipped") is not None:
            continue  # a stage that did not run (no links: no stateful phase) judges nothing
        kinds = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert kinds["kind"] in ("documented", "inferred", "assumed"), case.get("name")
        assert kinds["source"].startswith(kinds["kind"]), case.get("name")
    flag = next(c for c in cases if c.get("name") == "kenbun_overage_flag")
    failure = flag.find("failure")
    assert failure is not None and "The overage flag is set to true" in failure.get("message", "")


def test_a_junit_file_that_cannot_be_written_is_one_line_naming_it(tmp_path: Path) -> None:
    """An OSError when the report is written (here: the path is a directory) is a usage error."""
    report = JUnitReport(tmp_path)
    with pytest.raises(UsageMockError) as raised:
        report.handle(RunFinished(api="kenbun", seed=1, elapsed=0.1, requests=0, findings=()))
    assert str(raised.value).startswith(f"--junit {tmp_path}: cannot write there")
    assert "\n" not in str(raised.value)
