"""Bundled scenarios keep the rules and their names' promises; bad scenario files are refused."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import bearer, in_process_client
from usagemock.apis import violations
from usagemock.apis.timbal.account import TimbalAccount
from usagemock.domain.periods import calendar_month, monthly_period
from usagemock.domain.records import OrgRecord
from usagemock.engine import Engine
from usagemock.errors import FixtureError
from usagemock.scenarios import load_scenarios
from usagemock.store import MEMORY, SQLiteStore
from usagemock.testing import free_port, listening
from usagemock.web.handlers import body_now

SCENARIOS = load_scenarios()


@dataclass(frozen=True)
class Seen:
    """One org just put into a scenario: what its API answers, its record, and the moment."""

    body: Mapping[str, Any]
    record: OrgRecord
    now: datetime

    def __getitem__(self, field: str) -> Any:
        """A field of the body."""
        return self.body[field]

    @property
    def limit(self) -> int:
        """Kenbun's free tier, or the credits Timbal's plan includes."""
        account = self.record.account
        if isinstance(account, TimbalAccount):
            return account.plan.included_credits
        return account.plan.free_tier_limit

    @property
    def consumed(self) -> int:
        """Units consumed this period so far, included credits too (Timbal reports only overage)."""
        account = self.record.account
        if isinstance(account, TimbalAccount):
            period = monthly_period(account.anchor, self.now)
        else:
            period = calendar_month(self.now)
        done = sum(i.amount for i in self.record.ingests if period.start <= i.at <= self.now)
        return done + account.curve.at(period, self.now)

    @property
    def fault(self) -> Any:
        """The fault the org answers with (None if it has none)."""
        return self.record.fault

    def trial_ends_in(self, expected: timedelta) -> bool:
        """Trialing, with the trial ending ``expected`` from now (to the reported second)."""
        if self["subscription_status"] != "trialing" or self["trial_ends_at"] is None:
            return False
        ends = datetime.fromisoformat(self["trial_ends_at"].replace("Z", "+00:00"))
        return abs(ends - (self.now + expected)) < timedelta(seconds=1)

    def later_ingests(self) -> list[int]:
        """Amounts the scenario's timeline will ingest after now."""
        return [i.amount for i in self.record.ingests if i.at > self.now]


Promise = Callable[[Seen], bool]

# What each bundled scenario's name promises, per API it covers. A scenario added without a line
# here fails test_every_bundled_scenario_has_an_expectation.
EXPECTED: Mapping[str, Mapping[str, Promise]] = {
    "approaching_limit": {
        "kenbun": lambda s: 0.9 * s.limit <= s["monthly_events"] <= s.limit and not s["overage"],
        "timbal": lambda s: 0.9 * s.limit <= s.consumed < s.limit and s["used_credits"] == 0,
    },
    "at_limit": {
        "kenbun": lambda s: s["monthly_events"] == s.limit and s["overage"] is False,
        "timbal": lambda s: s.consumed == s.limit and s["used_credits"] == 0,
    },
    "just_over_limit": {
        "kenbun": lambda s: s["monthly_events"] == s.limit + 1 and s["overage"] is True,
        "timbal": lambda s: s["pending_credits"] == s["used_credits"] == 1,
    },
    "heavy_overage": {
        "kenbun": lambda s: s["monthly_events"] >= 5 * s.limit and s["overage"] is True,
        "timbal": lambda s: s["pending_credits"] == 8_000_000 and s["invoiced_credits"] == 0,
    },
    "interim_invoice_fired": {
        "timbal": lambda s: s["invoiced_credits"] > 0 and s["pending_credits"] > 0,
    },
    "cap_reached": {
        "timbal": lambda s: s["cap_credits"] is not None and s["used_credits"] == s["cap_credits"],
    },
    "overage_disabled": {
        "timbal": lambda s: s["enabled"] is False and s["used_credits"] == 0 > s.limit - s.consumed,
    },
    "unlimited_cap": {
        "timbal": lambda s: s["enabled"] and s["cap_credits"] is None and s["pending_credits"] > 0,
    },
    "no_metered_window": {
        "timbal": lambda s: s["period_start"] is None and s["period_end"] is None,
    },
    "fresh_free_tier": {
        "kenbun": lambda s: s["monthly_events"] == 0 and s["subscription_status"] == "active",
        "timbal": lambda s: s["enabled"] and s.consumed == 0 and s["used_credits"] == 0,
    },
    "growth_timeline": {
        "kenbun": lambda s: s["monthly_events"] == 0.6 * s.limit and s.later_ingests(),
        "timbal": lambda s: s.consumed == 0.6 * s.limit and s.later_ingests(),
    },
    "trial_active": {"kenbun": lambda s: s.trial_ends_in(timedelta(days=10))},
    "trial_ending_tomorrow": {"kenbun": lambda s: s.trial_ends_in(timedelta(days=1))},
    "trial_expired": {
        "kenbun": lambda s: s["subscription_status"] == "expired" and s["trial_ends_at"] is None,
    },
    "past_due": {"kenbun": lambda s: s["subscription_status"] == "past_due"},
    "canceled": {"kenbun": lambda s: s["subscription_status"] == "canceled"},
    "ended": {"kenbun": lambda s: s["subscription_status"] == "ended"},
    "no_subscription": {"kenbun": lambda s: s["subscription_status"] == "none"},
    "forbidden": {"timbal": lambda s: s.fault.status == 403 and s.fault.rate == 1},
    "server_error": {"timbal": lambda s: s.fault.status == 500 and s.fault.rate == 1},
    "org_unresolved": {"kenbun": lambda s: s.fault.status == 400 and s.fault.rate == 1},
    "flaky": {"timbal": lambda s: s.fault.status == 500 and 0 < s.fault.rate < 1},
    "slow": {
        "kenbun": lambda s: s.fault.status is None and s.fault.latency_ms >= 1000,
        "timbal": lambda s: s.fault.status is None and s.fault.latency_ms >= 1000,
    },
}

# Any moment, month ends and period ends included, down to the second.
moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))


def test_every_bundled_scenario_has_an_expectation() -> None:
    """The table names exactly the bundled scenarios, each with the APIs it covers."""
    assert {name: sorted(apis) for name, apis in EXPECTED.items()} == {
        name: list(scenario.apis) for name, scenario in SCENARIOS.items()
    }


@pytest.mark.parametrize(
    ("name", "api"), [(name, api) for name, s in sorted(SCENARIOS.items()) for api in s.apis]
)
@settings(max_examples=12, deadline=None)
@given(now=moments, seed=st.integers(0, 2**16), org_id=st.sampled_from(["org_a", "x", "org_42"]))
def test_scenario_keeps_the_rules_and_its_promise(
    name: str, api: str, now: datetime, seed: int, org_id: str
) -> None:
    """Applied to any generated org at any moment, a scenario gives what its name says."""
    engine = Engine(SQLiteStore(MEMORY, seed=seed), SCENARIOS, seed=seed, real_clock=lambda: now)
    engine.freeze(True)
    record = engine.apply_scenario(api, org_id, name)
    body = body_now(*engine.answering(api, org_id))
    assert violations(api, body) == [], body
    assert EXPECTED[name][api](Seen(body, record, now)), (name, api, body, record)


@pytest.mark.parametrize(
    ("name", "api"), [(name, api) for name, s in sorted(SCENARIOS.items()) for api in s.apis]
)
def test_an_org_first_seen_in_a_default_scenario_answers_it_at_once(name: str, api: str) -> None:
    """Its first answer is at or after the moment its scenario was applied, on a running clock.

    The record is stored by that first request; an answer at a moment read before the write
    would be from before the scenario began (the third API's test caught it once).
    """
    ticks = iter(datetime(2026, 3, 10, tzinfo=UTC) + timedelta(milliseconds=n) for n in range(99))
    engine = Engine(
        SQLiteStore(MEMORY, seed=0),
        SCENARIOS,
        seed=0,
        default_scenario=name,
        real_clock=ticks.__next__,
    )
    record, now = engine.answering(api, "org_first")
    assert record.scenario == name and record.applied_at is not None
    assert now >= record.applied_at, (now, record.applied_at)


def test_trial_ending_tomorrow_becomes_active_once_it_ends() -> None:
    """The day after, the trial is over: active, no trial_ends_at."""
    clock = [datetime(2026, 3, 31, 20, tzinfo=UTC)]
    engine = Engine(SQLiteStore(MEMORY, seed=0), SCENARIOS, seed=0, real_clock=lambda: clock[0])
    engine.freeze(True)
    engine.apply_scenario("kenbun", "org_a", "trial_ending_tomorrow")
    engine.advance(timedelta(days=1, seconds=1))
    body = body_now(*engine.answering("kenbun", "org_a"))
    assert (body["subscription_status"], body["trial_ends_at"]) == ("active", None)


BAD_FILES = {
    "unknown field": (
        "description: x\nkenbun:\n  usage: {events: 1}\n  colour: red\n",
        ":4: kenbun.colour",
        "Additional properties",
    ),
    "wrong type": (
        "description: x\ntimbal:\n  plan:\n    cap_credits: lots\n",
        ":4: timbal.plan.cap_credits",
        "'lots' is not of type",
    ),
    "bad duration": (
        "description: x\nkenbun:\n  timeline:\n    - {after: 2 days, ingest: 5}\n",
        ":4: kenbun.timeline.0.after",
        "'2 days' does not match",
    ),
    "bad trial duration": (
        "description: x\nkenbun:\n  trial:\n    ends_in: P1.5M\n    then: active\n",
        ":4: kenbun.trial.ends_in",
        "'P1.5M' does not match",
    ),
    "invalid YAML": (
        "description: x\nkenbun:\n  usage: {events: 1\n  status: active\n",
        ":4:",
        "not valid YAML",
    ),
}


@pytest.mark.parametrize(("text", "where", "what"), BAD_FILES.values(), ids=list(BAD_FILES))
def test_a_bad_scenario_file_is_refused_naming_file_line_and_field(
    tmp_path: Path, text: str, where: str, what: str
) -> None:
    """Unknown fields, wrong types, bad durations and broken YAML name the file, line and field."""
    (tmp_path / "good.yaml").write_text("description: fine\nkenbun:\n  status: active\n")
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(FixtureError) as caught:
        load_scenarios(tmp_path)
    message = str(caught.value)
    assert f"{path}{where}" in message and what in message


def test_a_missing_scenarios_folder_is_refused() -> None:
    """A folder that is not there is named in the error."""
    with pytest.raises(FixtureError, match="no such scenarios folder"):
        load_scenarios(Path("/nonexistent/scenarios"))


def test_serve_refuses_to_start_with_a_bad_scenarios_folder(tmp_path: Path) -> None:
    """``serve --scenarios`` with a bad file exits 2 naming it, and never listens."""
    path = tmp_path / "broken.yaml"
    path.write_text(BAD_FILES["unknown field"][0])
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "usagemock", "serve", "--state", MEMORY),
            *("--port", str(port), "--scenarios", str(tmp_path)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()
        pytest.fail("usagemock serve started with a bad scenario file")
    assert server.returncode == 2, stderr
    assert stderr.startswith("usagemock: error: ")
    assert f"{path}:4: kenbun.colour" in stderr
    assert "Traceback" not in stderr
    assert stdout == "", "nothing may be served: not even the banner"
    assert not listening(port)


UNUSABLE = {
    "step beyond any calendar": (
        "description: x\nkenbun:\n  timeline:\n    - {after: P99999Y, ingest: 5}\n",
        "keep every step within 100 years",
    ),
    "trial beyond any calendar": (
        "description: x\nkenbun:\n  trial: {ends_in: P99999Y, then: active}\n",
        "keep every step within 100 years",
    ),
    "step past the calendar's slack": (
        "description: x\ntimbal:\n  timeline:\n    - {after: -P150Y, ingest: 5}\n",
        "reaches 0850-01-01; keep every step within 100 years",
    ),
    "count beyond int64": (
        "description: x\nkenbun:\n  usage: {events: 9223372036854775808}\n",
        "kenbun.usage",
    ),
    "share that overflows": (
        "description: x\ntimbal:\n  usage: {share_of_included: 1.0e+300}\n",
        "timbal.usage",
    ),
    "usage past what an org may hold": (
        "description: x\nkenbun:\n  timeline:\n"
        + "    - {after: P1D, ingest: 1000000000000000}\n" * 2,
        "adds up to 2000000000000000, more than the 1000000000000000 an org may hold",
    ),
    "pending above the threshold": (
        "description: x\ntimbal:\n  plan: {rate_cents_per_1k: 10, threshold_usd: 1}\n"
        "  usage: {pending: 20000}\n",
        "reach the interim invoice threshold (10000 credits)",
    ),
    "fault that does nothing": ("description: x\ntimbal:\n  fault: {rate: 0.5}\n", "fault"),
}


@pytest.mark.parametrize(("text", "says"), UNUSABLE.values(), ids=list(UNUSABLE))
def test_a_scenario_that_could_fail_when_applied_is_refused_when_loaded(
    tmp_path: Path, text: str, says: str
) -> None:
    """What a scenario makes is checked at load time by the code that applies it, not with a 500."""
    path = tmp_path / "unusable.yaml"
    path.write_text(text)
    with pytest.raises(FixtureError) as caught:
        load_scenarios(tmp_path)
    assert str(caught.value).startswith(str(path)) and says in str(caught.value)


@pytest.mark.parametrize("now", ["1000-01-01T00:00:00Z", "8999-12-31T23:59:59Z"])
async def test_every_bundled_scenario_answers_at_the_calendar_edges(now: str) -> None:
    """Each scenario, asked for with ``Prefer:``, answers at both calendar edges: no unasked 5xx."""
    moment = datetime.fromisoformat(now)
    async with in_process_client(moment) as client:
        for scenario in SCENARIOS.values():
            for api in scenario.apis:
                path = "/kenbun/usage" if api == "kenbun" else "/timbal/orgs/o/billing/overage"
                headers = {**bearer("t"), "Prefer": f"scenario={scenario.name}, latency=0"}
                response = await client.get(path, headers=headers)
                injected = "Injected by usagemock" in response.text  # server_error, flaky
                assert response.status_code < 500 or injected, (scenario.name, response.text)


@pytest.mark.parametrize("name", ["mine.yml", "mine.json", "mine.YAML", "mine.Json"])
def test_scenario_files_are_yaml_or_json_by_any_suffix_case(tmp_path: Path, name: str) -> None:
    """A scenario file ending .yaml, .yml or .json, in any case, is loaded under its stem."""
    (tmp_path / name).write_text('{"description": "mine", "kenbun": {"status": "active"}}\n')
    assert list(load_scenarios(tmp_path)) == ["mine"]


def test_two_files_of_one_scenario_name_in_a_folder_are_refused(tmp_path: Path) -> None:
    """`mine.yaml` and `mine.json` in one folder are refused naming both, not one dropped."""
    for name in ("mine.yaml", "mine.json"):
        (tmp_path / name).write_text('{"description": "mine", "kenbun": {"status": "active"}}\n')
    with pytest.raises(FixtureError) as caught:
        load_scenarios(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'mine.yaml'}: scenario 'mine' is also {tmp_path / 'mine.json'}; "
        "rename one of the files."
    )


def test_a_user_scenario_named_like_a_bundled_one_stops_start_up(tmp_path: Path) -> None:
    """A --scenarios file whose name a bundled scenario has is refused (exit 2), naming both."""
    mine = tmp_path / "slow.yaml"
    mine.write_text("description: mine\nkenbun:\n  status: active\n")
    with pytest.raises(FixtureError) as caught:
        in_process_client(scenarios=tmp_path)
    assert caught.value.exit_code == 2
    assert str(caught.value) == (
        f"{mine}: scenario 'slow' is bundled with usagemock ({SCENARIOS['slow'].source}); "
        "rename the file to give yours another name."
    )
