"""A whole billing period and its rollover, driven through the admin API, seen on the APIs."""

from __future__ import annotations

from typing import Any

from tests.conftest import ACCESS_FIXTURES, bearer, in_process_client

ADMIN = "/_usagemock"
START = "2026-03-14T12:00:00Z"  # Kenbun's cycle rolls over on 1 April (day 18)
ANCHOR = "2026-01-25T00:00:00Z"  # Timbal's periods roll over on the 25th (day 11)
STEP = 1_000_000  # interim_invoice_fired: 100 USD at 10 cents per 1,000 credits


async def _ok(response: Any) -> Any:
    """The JSON of a successful admin or API call (or the failure, readably)."""
    result = await response
    assert result.status_code in (200, 204), f"{result.request.url}: {result.text}"
    return result.json() if result.status_code == 200 else None


async def test_one_period_and_its_rollover_through_the_admin_api() -> None:
    """Approaching -> overage, ingests on their day, interim invoices, then counters restart."""
    async with in_process_client(fixtures=ACCESS_FIXTURES) as client:

        async def kenbun() -> Any:
            return await _ok(client.get("/kenbun/usage", headers=bearer("acme-member")))

        async def timbal(org: str) -> Any:
            url = f"/timbal/orgs/{org}/billing/overage"
            return await _ok(client.get(url, headers=bearer("acme-admin")))

        async def admin(method: str, path: str, body: Any = None) -> Any:
            return await _ok(client.request(method, f"{ADMIN}{path}", json=body))

        await admin("PUT", "/clock", {"now": START, "frozen": True})
        await admin("PUT", "/orgs/kenbun/org_acme/scenario", {"name": "approaching_limit"})
        for org, scenario in (
            ("org_acme", "growth_timeline"),
            ("org_globex", "interim_invoice_fired"),
        ):
            view = await admin("PUT", f"/orgs/timbal/{org}/scenario", {"name": scenario})
            # QA pins the period so it ends mid-timeline: the org's state, replaced whole
            await admin("PUT", f"/orgs/timbal/{org}", {**view["record"], "anchor": ANCHOR})

        usage, growth, interim = (
            await kenbun(),
            await timbal("org_acme"),
            await timbal("org_globex"),
        )
        limit = usage["free_tier_limit"]
        assert 0.9 * limit <= usage["monthly_events"] <= limit and not usage["overage"]
        assert growth["used_credits"] == 0 and growth["period_end"] == "2026-03-25T00:00:00Z"
        assert (interim["invoiced_credits"], interim["pending_credits"]) == (STEP, 250_000)

        overage_by_growth_on, accrual_invoices = None, 0
        for day in range(1, 21):
            await admin("POST", "/clock/advance", {"by": "P1D"})
            before = (usage, growth, interim)
            usage, growth, interim = (
                await kenbun(),
                await timbal("org_acme"),
                await timbal("org_globex"),
            )

            # Kenbun: the organic curve grows usage past the free tier, then the cycle rolls over
            if day < 18:
                assert usage["monthly_events"] >= before[0]["monthly_events"]
                if usage["overage"] and overage_by_growth_on is None:
                    overage_by_growth_on = day
                    assert not before[0]["overage"]
            else:
                assert usage["billing_cycle_start"] == "2026-04-01T00:00:00Z"
                assert usage["monthly_events"] < 0.1 * limit and not usage["overage"], usage
            if day == 16:  # an ingest by hand shows at once, to the event
                seen = usage["monthly_events"]
                await admin("POST", "/orgs/kenbun/org_acme/ingest", {"amount": 25_000})
                usage = await kenbun()
                assert usage["monthly_events"] == seen + 25_000 and usage["overage"]

            # Timbal growth_timeline: 500,000 credits on day 2, 2,000,000 on day 7, nothing between
            expected = {2: 100_000, 7: 2_100_000}
            if day < 11:
                last = max((v for d, v in expected.items() if d <= day), default=0)
                assert growth["used_credits"] == growth["pending_credits"] == last, (day, growth)
            else:
                assert growth["period_start"] == "2026-03-25T00:00:00Z"
                assert growth["used_credits"] == growth["invoiced_credits"] == 0, (day, growth)

            # Timbal interim_invoice_fired: once pending reaches 100 USD an interim invoice bills
            # it, one threshold's worth at a time as usage accrues, all of it when an ingest lands
            if day < 11:
                old = before[2]
                grew = interim["used_credits"] - old["used_credits"]
                billed = interim["invoiced_credits"] - old["invoiced_credits"]
                assert interim["pending_credits"] < STEP, (day, interim)
                assert billed % STEP == 0 and (billed > 0) == (
                    old["pending_credits"] + grew >= STEP
                )
                accrual_invoices += billed // STEP
            else:
                assert interim["used_credits"] == interim["invoiced_credits"] == 0, (day, interim)
            if day in (3, 8):  # 500,000 stays below the threshold; 1,200,000 passes it at once
                amount = 500_000 if day == 3 else 1_200_000
                view = await admin("POST", "/orgs/timbal/org_globex/ingest", {"amount": amount})
                after = view["response"]
                assert after == await timbal("org_globex")
                assert after["used_credits"] == interim["used_credits"] + amount
                if day == 3:
                    assert after["invoiced_credits"] == interim["invoiced_credits"]
                    assert after["pending_credits"] == interim["pending_credits"] + amount < STEP
                else:
                    assert after["invoiced_credits"] == after["used_credits"], after
                interim = after

        assert overage_by_growth_on is not None and overage_by_growth_on < 16
        assert accrual_invoices >= 1, "usage accruing past the threshold fires an interim invoice"
