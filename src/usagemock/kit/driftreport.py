"""A drift as text, Markdown (fits ``$GITHUB_STEP_SUMMARY``) or JSON, grouped by how it misleads."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict

from usagemock.kit.drift import HEADINGS, Difference, Drift
from usagemock.kit.summary import table_cell

FORMATS = ("text", "markdown", "json")


def render(drift: Drift, form: str) -> str:
    """``drift`` in the format named ``form`` (one of :data:`FORMATS`)."""
    if form == "json":
        return json.dumps(
            {
                "api": drift.api,
                "live": drift.live,
                "misleading": len(drift.misleading),
                "differences": [dataclasses.asdict(d) for d in drift.differences],
            },
            indent=2,
        )
    return markdown(drift) if form == "markdown" else text(drift)


def _grouped(drift: Drift) -> dict[str, list[Difference]]:
    grouped: dict[str, list[Difference]] = defaultdict(list)
    for difference in drift.differences:
        grouped[difference.group].append(difference)
    return {group: grouped[group] for group in HEADINGS if group in grouped}


def _verdict(drift: Drift) -> str:
    if drift.misleading:
        return f"{len(drift.misleading)} difference(s) would mislead a frontend built on the mock"
    if drift.differences:
        return "no difference would mislead a frontend (only harmless ones)"
    return "no difference"


def text(drift: Drift) -> str:
    """A plain report for a terminal."""
    lines = [
        f"usagemock drift: {drift.api}, {drift.live} against the mock "
        f"({drift.probes} requests to each, {drift.mock_answers} answers of the mock)"
    ]
    for group, differences in _grouped(drift).items():
        lines.append(f"\n{HEADINGS[group]}:")
        for d in differences:
            lines.append(f"  {d.where}: live {d.live}; mock {d.mock}")
            lines.append(f"    change: {d.fix}")
    lines.append(f"\n{drift.api}: {_verdict(drift)}")
    return "\n".join(lines)


def markdown(drift: Drift) -> str:
    """A GitHub-flavoured Markdown report: a heading, the verdict, a table per group."""
    mark = ":x:" if drift.misleading else ":white_check_mark:"
    lines = [
        f"### usagemock drift: {drift.api}",
        "",
        f"{mark} {_verdict(drift)} (`{drift.live}` against the mock, {drift.probes} requests "
        "to each).",
    ]
    for group, differences in _grouped(drift).items():
        lines += ["", f"#### {HEADINGS[group]}", "", "| where | live | mock | change |"]
        lines.append("|---|---|---|---|")
        lines += [
            "| " + " | ".join(table_cell(cell) for cell in (d.where, d.live, d.mock, d.fix)) + " |"
            for d in differences
        ]
    return "\n".join(lines) + "\n"
