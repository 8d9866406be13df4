"""Drift between the mock and servers that differ from it in known ways, and the mock itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.responses import Response

from tests.kit.broken_servers import altered
from tests.thirdapi.seats import FACTS as SEATS
from usagemock.cli import main
from usagemock.cli.drift import _scenarios
from usagemock.cli.test import throwaway
from usagemock.kit import drift, driftreport
from usagemock.kit.drift import CONTENT_TYPE, ERROR_BODY, EXTRA, FIELDS, STATUS, TYPES, VALUES
from usagemock.kit.targets import Target
from usagemock.settings import Settings
from usagemock.web.app import create_app

TOKEN = "drift-secret-token-9a2e"
ORGS = {"kenbun": ("org_k1",), "timbal": ("org_t1", "org_t2")}


def the_mock(api: str, tmp_path: Path, fixtures: dict[str, Any] | None = None) -> Any:
    """A usagemock of ``api`` whose fixtures give the token its orgs, as a team would run it."""
    orgs = ORGS[api]
    path = tmp_path / f"{api}-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(
        json.dumps(fixtures or {"tokens": {TOKEN: {"org": orgs[0], "can_read": list(orgs)}}})
    )
    return create_app(throwaway(Settings(api=api, fixtures=path)))


def compare(api: str, live: Any, tmp_path: Path) -> drift.Drift:
    """The drift of ``live`` (an app in this process) from the mock, as the CLI asks it."""
    mock = the_mock(api, tmp_path, drift.mock_fixtures(TOKEN, ORGS[api]))
    return drift.compare(
        api,
        Target.in_process(live),
        Target.in_process(mock),
        token=TOKEN,
        org_ids=ORGS[api],
        scenarios=_scenarios(api),
    )


@pytest.mark.parametrize("api", ["kenbun", "timbal"])
def test_the_mock_against_itself_has_no_difference(api: str, tmp_path: Path) -> None:
    """A usagemock compared with the mock: nothing at all to report."""
    found = compare(api, the_mock(api, tmp_path), tmp_path)
    assert found.differences == (), driftreport.text(found)


KENBUN_KNOWN = "GET /usage for the token's org"
TIMBAL_KNOWN = "GET /orgs/{org_id}/billing/overage for org org_t1"


def _problem_as_json(status: int, content: bytes) -> Response:
    return Response(b'{"error": "unauthorized"}', status, None, "application/json")


CASES = [
    (
        "kenbun",
        "a plan limit the mock never generates",
        {"body": lambda b: {**b, "free_tier_limit": 750_000}},
        {(VALUES, "free_tier_limit")},
    ),
    (
        "kenbun",
        "a field the mock always sends, left out",
        {"body": lambda b: {k: v for k, v in b.items() if k != "trial_ends_at"}},
        {(FIELDS, f"{KENBUN_KNOWN}: trial_ends_at")},
    ),
    (
        "kenbun",
        "403 where the mock answers 401",
        {
            "refusal": lambda status, content: Response(
                content, 403, None, "application/problem+json"
            )
        },
        {(STATUS, "GET /usage without a token"), (STATUS, "GET /usage with a bad token")},
    ),
    (
        "kenbun",
        "401 as application/json with another body",
        {"refusal": _problem_as_json},
        {
            (kind, f"GET /usage {who} (401)")
            for kind in (CONTENT_TYPE, ERROR_BODY)
            for who in ("without a token", "with a bad token")
        },
    ),
    (
        "timbal",
        "cap_credits as a string",
        {"body": lambda b: {**b, "cap_credits": str(b["cap_credits"])}},
        {(TYPES, f"{TIMBAL_KNOWN}: cap_credits"), (TYPES, f"{TIMBAL_KNOWN[:-1]}2: cap_credits")},
    ),
]


@pytest.mark.parametrize(("api", "what", "change", "expected"), CASES, ids=[c[1] for c in CASES])
def test_a_known_difference_is_exactly_what_drift_reports(
    api: str, what: str, change: dict[str, Any], expected: set[tuple[str, str]], tmp_path: Path
) -> None:
    """A mock altered in one known way: that difference and no other, and it misleads."""
    found = compare(api, altered(the_mock(api, tmp_path), **change), tmp_path)
    assert {(d.group, d.where) for d in found.differences} == expected, driftreport.text(found)
    assert found.misleading == found.differences
    assert TOKEN not in driftreport.render(found, "json") + driftreport.render(found, "text")


def test_counters_the_mock_never_reached_are_no_difference(tmp_path: Path) -> None:
    """A live org further into its period than any the mock showed: a count, not a category."""

    def further(body: dict[str, Any]) -> dict[str, Any]:
        more = 20_400_000
        return {
            **body,
            "used_credits": body["used_credits"] + more,
            "invoiced_credits": body["invoiced_credits"] + more,
        }

    found = compare("timbal", altered(the_mock("timbal", tmp_path), body=further), tmp_path)
    assert found.differences == (), driftreport.text(found)


def test_a_field_only_the_live_server_sends_is_harmless(tmp_path: Path) -> None:
    """An extra field is listed but misleads no frontend (exit 0 territory)."""
    live = altered(the_mock("kenbun", tmp_path), body=lambda b: {**b, "plan_name": "Pro"})
    found = compare("kenbun", live, tmp_path)
    assert [(d.group, d.misleads) for d in found.differences] == [(EXTRA, False)]
    assert found.misleading == ()


def test_markdown_groups_the_differences_in_tables(tmp_path: Path) -> None:
    """The Markdown fits a step summary: heading, verdict, one table per group, pipes escaped."""
    live = altered(the_mock("kenbun", tmp_path), refusal=_problem_as_json)
    text = driftreport.markdown(compare("kenbun", live, tmp_path))
    assert text.startswith("### usagemock drift: kenbun\n")
    assert ":x: 4 difference(s) would mislead" in text
    assert "#### Content types: the frontend would parse the body otherwise" in text
    assert (
        "| GET /usage without a token (401) | application/json | application/problem+json |" in text
    )


@pytest.mark.e2e
def test_the_command_exits_0_for_the_mock_and_1_for_a_misleading_server(
    serve: Callable[..., str], tmp_path: Path
) -> None:
    """``usagemock drift`` against live servers on loopback: exit 0 when equal, 1 when not."""
    env = {"USAGEMOCK_TOKEN": TOKEN}
    same = serve(the_mock("timbal", tmp_path))
    args = ["drift", "--api", "timbal", "--org-id", "org_t1", "--org-id", "org_t2"]
    result = CliRunner().invoke(main, [*args, "--target", same], env=env)
    assert result.exit_code == 0, result.output
    assert "timbal: no difference" in result.output
    other = serve(
        altered(the_mock("timbal", tmp_path), body=lambda b: {**b, "rate_cents_per_1k": 7})
    )
    result = CliRunner().invoke(main, [*args, "--target", other, "--format", "markdown"], env=env)
    assert result.exit_code == 1, result.output
    assert "#### Values the mock never produces" in result.output and TOKEN not in result.output


@pytest.mark.e2e
def test_a_default_mock_in_open_mode_drifts_from_nothing(serve: Callable[..., str]) -> None:
    """The README's first try: drift against a default ``usagemock serve`` finds nothing."""
    live = serve(create_app(throwaway(Settings(api="timbal"))))
    args = ["drift", "--api", "timbal", "--org-id", "org_demo", "--target", live]
    result = CliRunner().invoke(main, args, env={"USAGEMOCK_TOKEN": "demo"})
    assert result.exit_code == 0, result.output
    assert "timbal: no difference" in result.output
    assert "is a usagemock in open mode" in result.output


@pytest.mark.e2e
def test_a_target_where_the_usagemock_lacks_the_api_is_exit_2_naming_where_it_is(
    serve: Callable[..., str],
) -> None:
    """A default ``usagemock serve``'s root for --api kenbun: where it is, not 404 "drift"."""
    root = serve(create_app(throwaway(Settings(api="all"))))
    args = ["drift", "--api", "kenbun", "--target", root]
    result = CliRunner().invoke(main, args, env={"USAGEMOCK_TOKEN": "demo"})
    assert result.exit_code == 2, result.output
    assert f"it has it at {root}/kenbun" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--api", "timbal", "--target", "http://127.0.0.1:1"], "pass --org-id"),
        (["--api", "kenbun", "--target", ""], "--target '' is empty"),
        (["--api", "kenbun", "--target", "http://127.0.0.1:1"], "Cannot reach"),
        (["--api", "kenbun", "--target", "http://127.0.0.1:1"], "check --target and"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(args: list[str], says: str) -> None:
    """A missing org, a bad or dead target: one line on stderr, exit 2."""
    result = CliRunner().invoke(main, ["drift", *args], env={"USAGEMOCK_TOKEN": TOKEN})
    assert result.exit_code == 2, result.output
    assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_api_from_the_registry_drifts_by_its_own_facts(seats: str, tmp_path: Path) -> None:
    """A third API (its org in the path, named by its facts): itself, then one field dropped."""
    orgs = ("org_s1",)
    fixtures = {"tokens": {TOKEN: {"org": orgs[0], "can_read": list(orgs)}}}
    (tmp_path / "live.json").write_text(json.dumps(fixtures))
    (tmp_path / "mock.json").write_text(json.dumps(drift.mock_fixtures(TOKEN, orgs)))

    def mock_of(name: str) -> Any:
        settings = Settings(api=SEATS.name, fixtures=tmp_path / f"{name}.json")
        return create_app(throwaway(settings))

    def against(live: Any) -> drift.Drift:
        return drift.compare(
            SEATS.name,
            Target.in_process(live),
            Target.in_process(mock_of("mock")),
            token=TOKEN,
            org_ids=orgs,
        )

    assert against(mock_of("live")).differences == ()
    dropped = altered(
        mock_of("live"), body=lambda b: {k: v for k, v in b.items() if k != "over_limit"}
    )
    found = against(dropped)
    assert {(d.group, d.where.split(": ")[-1]) for d in found.differences} == {
        (FIELDS, "over_limit")
    }
