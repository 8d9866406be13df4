"""The operations of each API: authorize, ask the domain, shape the documented JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connexion.exceptions import ProblemException

from usagemock.access import AccessPolicy, Principal
from usagemock.domain import kenbun, timbal
from usagemock.domain.periods import isoformat
from usagemock.web.auth import mask

Clock = Callable[[], datetime]
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class MockContext:
    """What every handler needs: the seed, the access policy and the clock."""

    seed: int
    policy: AccessPolicy
    clock: Clock


def overage_body(summary: timbal.OverageSummary) -> dict[str, Any]:
    """``OverageSummary`` as the Timbal spec shapes it."""
    period = summary.period
    return {
        "enabled": summary.enabled,
        "cap_credits": summary.cap_credits,
        "used_credits": summary.used_credits,
        "invoiced_credits": summary.invoiced_credits,
        "pending_credits": summary.pending_credits,
        "period_start": isoformat(period.start) if period else None,
        "period_end": isoformat(period.end) if period else None,
        "rate_cents_per_1k": summary.rate_cents_per_1k,
        "threshold_usd": summary.threshold_usd,
    }


def usage_body(usage: kenbun.EventUsage) -> dict[str, Any]:
    """``Usage`` as the Kenbun spec shapes it."""
    account, plan = usage.account, usage.account.plan
    return {
        "monthly_events": usage.monthly_events,
        "free_tier_limit": plan.free_tier_limit,
        "overage_rate_cents": plan.overage_rate_cents,
        "overage_unit": plan.overage_unit,
        "overage": usage.overage,
        "billing_cycle_start": isoformat(usage.cycle.start),
        "billing_cycle_end": isoformat(usage.billing_cycle_end),
        "org_id": account.org_id,
        "org_name": account.org_name,
        "subscription_status": account.status.value,
        "trial_ends_at": isoformat(usage.trial_ends_at) if usage.trial_ends_at else None,
    }


def timbal_operations(ctx: MockContext) -> dict[str, Callable[..., Any]]:
    """Timbal's handlers by operationId."""

    async def get_overage(org_id: str, token_info: dict[str, Any]) -> dict[str, Any]:
        principal: Principal = token_info["principal"]
        if not principal.may_read(org_id):
            raise ProblemException(
                status=403,
                detail=f"Token {mask(principal.token)} may not read org {org_id!r}; use a token "
                "whose fixtures entry lists it under can_read.",
            )
        account = timbal.generate_account(org_id, ctx.seed)
        return overage_body(timbal.summarize(account, ctx.clock()))

    return {"get": get_overage}


def kenbun_operations(ctx: MockContext) -> dict[str, Callable[..., Any]]:
    """Kenbun's handlers by operationId."""

    async def get_usage(token_info: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        principal: Principal = token_info["principal"]
        if principal.org_from_token:
            account = kenbun.generate_account(principal.token, ctx.seed)
        elif principal.org_id is None:
            raise ProblemException(
                status=400,
                detail=f"Organization context could not be resolved: token "
                f"{mask(principal.token)} belongs to no organization in the fixtures file.",
            )
        else:
            name = ctx.policy.org_name(principal.org_id)
            account = kenbun.generate_account(principal.org_id, ctx.seed, principal.org_id, name)
        # The operation also declares problem+json (for errors), so say which type this is.
        return usage_body(kenbun.usage_at(account, ctx.clock())), 200, JSON

    return {"getUsage": get_usage}


OPERATIONS: dict[str, Callable[[MockContext], dict[str, Callable[..., Any]]]] = {
    "timbal": timbal_operations,
    "kenbun": kenbun_operations,
}
