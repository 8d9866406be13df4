"""The Seats API: one module defining a made-up API (its spec and scenario sit beside it).

It is what a user adding their own API writes: an :class:`ApiFacts` for the kit, an account
type, and a definition for the mock; ``usagemock.apis.register(FACTS)`` makes usagemock serve,
test and manage it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from usagemock.apis import ApiFacts
from usagemock.apis.api_definition import ApiDefinition
from usagemock.apis.sections import COUNT, top_up
from usagemock.domain.identity import rng_for
from usagemock.domain.overview import Chart, Headline, Limit, Line, Overview
from usagemock.domain.periods import calendar_month
from usagemock.domain.records import curve_from_json
from usagemock.domain.usage import Ingest, UsageCurve, ingested
from usagemock.error_bodies import problem_details
from usagemock.rules import Body, Rule, documented

HERE = Path(__file__).parent
NAME = "seats"
DOC = "tests/thirdapi/seats.yaml"
SCENARIOS = HERE / "scenarios"


def _over_limit_flag(body: Body) -> list[str]:
    used, limit, flag = body["seats_used"], body["seats_limit"], body["over_limit"]
    if flag != (used > limit):
        return [f"over_limit is {flag} but seats_used {used} vs seats_limit {limit}"]
    return []


OVER_LIMIT_FLAG = Rule(
    "over_limit_flag",
    "over_limit is true exactly when seats_used exceeds seats_limit",
    documented(DOC, '"over_limit is true when seats_used exceeds seats_limit."'),
    _over_limit_flag,
)

FACTS = ApiFacts(
    name=NAME,
    spec=HERE / "seats.yaml",
    doc=DOC,
    definition="tests.thirdapi.seats:DEFINITION",
    sample_path="/orgs/org_demo/seats",
    org_param="org-id",  # not a Python name: the handler gets it as connexion names it
    rules=(OVER_LIMIT_FLAG,),
)


@dataclass(frozen=True)
class SeatsAccount:
    """An org's seat limit and how many seats it takes on its own each month."""

    org_id: str
    seats_limit: int
    curve: UsageCurve

    @property
    def api(self) -> str:
        """Seats."""
        return NAME


class SeatsOverview:
    """Seats at a glance: seats taken this month against the limit."""

    ingest_unit = "seats"

    def headline(self, account: SeatsAccount, now: datetime, ingests: Sequence[Ingest]) -> Headline:
        """Seats used against the limit."""
        used = DEFINITION.answer(account, now, ingests)["seats_used"]
        over = "yes" if used > account.seats_limit else "no"
        return Headline("active", f"{used} / {account.seats_limit} seats", over)

    def chart(self, account: SeatsAccount, now: datetime, ingests: Sequence[Ingest]) -> Chart:
        """Seats used this month, with the limit."""
        return Chart(
            unit="seats",
            period_at=calendar_month,
            lines=(Line("seats_used", "Seats used"),),
            limits=(Limit("seats_limit", "Limit", account.seats_limit),),
            values_at=lambda moment: (DEFINITION.answer(account, moment, ingests)["seats_used"],),
        )


class SeatsDefinition:
    """Seats for the mock."""

    facts = FACTS
    overview: Overview[SeatsAccount] = SeatsOverview()
    operation_id = "getSeats"
    scenario_section: Mapping[str, Any] = {"seats_limit": COUNT, "seats_used": COUNT}
    record_schema: Mapping[str, Any] = {
        "required": ["seats_limit"],
        "properties": {"seats_limit": {"$ref": "#/components/schemas/Count"}},
    }

    def generate(self, org_id: str, seed: int, name: str | None) -> SeatsAccount:
        """A limit of 5 to 50 seats and a month's use around it."""
        rng = rng_for(seed, NAME, org_id)
        limit = rng.choice((5, 10, 25, 50))
        total = round(limit * rng.uniform(0.2, 1.5))
        return SeatsAccount(org_id, limit, UsageCurve(total, 0, rng.getrandbits(32)))

    def answer(
        self, account: SeatsAccount, now: datetime, ingests: Sequence[Ingest]
    ) -> dict[str, Any]:
        """``GET /orgs/{org-id}/seats``."""
        month = calendar_month(now)
        used = account.curve.at(month, now) + ingested(ingests, month, now)
        return {
            "org_id": account.org_id,
            "seats_used": used,
            "seats_limit": account.seats_limit,
            "over_limit": used > account.seats_limit,
        }

    def moments(self, account: SeatsAccount) -> tuple[datetime, ...]:
        """None."""
        return ()

    def account_json(self, account: SeatsAccount) -> dict[str, Any]:
        """The limit."""
        return {"seats_limit": account.seats_limit}

    def account_from_json(self, data: Mapping[str, Any]) -> SeatsAccount:
        """The account of a stored record."""
        return SeatsAccount(data["org_id"], data["seats_limit"], curve_from_json(data["organic"]))

    def durations(self, section: Mapping[str, Any]) -> Sequence[str]:
        """None."""
        return ()

    def apply_section(
        self, scenario: str, base: SeatsAccount, section: Mapping[str, Any], now: datetime
    ) -> tuple[SeatsAccount, tuple[Ingest, ...]]:
        """The section's limit, and its seats taken now (no organic use after)."""
        account = replace(
            base,
            seats_limit=section.get("seats_limit", base.seats_limit),
            curve=UsageCurve(0, 0, base.curve.seed, since=now),
        )
        return account, top_up(section.get("seats_used", 0), now)

    def error_body(self, status: int, detail: str) -> tuple[bytes, str]:
        """RFC 9457 problem details."""
        return problem_details(status, detail)


DEFINITION: ApiDefinition[SeatsAccount] = SeatsDefinition()
