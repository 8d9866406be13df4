"""What a contract run emits: plain, token-free records that report handlers turn into output."""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field

MASK = "***"
#: What continues a word: a token glued to one of these is part of a longer word (``org_demo``,
#: ``exceeds`` for the token ``x``), which masking must leave as it is.
_WORD_CHARACTER = r"[\w-]"


@functools.lru_cache(maxsize=16)
def whole_word(token: str) -> re.Pattern[str]:
    """A pattern matching ``token`` where it stands as a word of its own."""
    return re.compile(rf"(?<!{_WORD_CHARACTER}){re.escape(token)}(?!{_WORD_CHARACTER})")


def replace_words(text: str, token: str, replacement: str) -> str:
    """``text`` with ``token`` replaced wherever it stands as a word; nothing else changes.

    A token repeated back to back (``T=T=``) is a word too once its neighbour is replaced, so
    the replacing repeats until nothing is left to replace.
    """
    if not token:
        return text
    pattern = whole_word(token)
    for _ in range(len(text) + 1):  # each pass removes an occurrence, so this ends early
        replaced = pattern.sub(replacement, text)
        if replaced == text:
            break
        text = replaced
    return text


def redact(text: str, token: str) -> str:
    """``text`` with ``token`` masked wherever it stands as a word; nothing else changes.

    Events never carry the secret; a token that is only part of a longer word is not the secret
    showing, and masking it would change what the reader sees (and replays).
    """
    return replace_words(text, token, MASK)


@dataclass(frozen=True)
class Finding:
    """One response that broke one check: what was asked, what came back, how to replay it."""

    api: str
    check: str
    title: str
    message: str
    stage: str
    operation: str
    method: str
    url: str
    status: int | None
    content_type: str | None
    body: str
    curl: str
    seed: int | None
    """The run's seed, to replay it; None for traffic the kit did not make (no seed replays it)."""
    kind: str = "documented"
    """Where the broken check comes from: documented, inferred or assumed (a note)."""
    source: str = ""
    """The quoted sentence or spec pointer it rests on, and the reasoning when inferred."""
    earlier: str = ""
    """For a rule across calls: the earlier response it broke with (this one is the later)."""

    @property
    def what_broke(self) -> str:
        """The message, or the title when the check gave none (schemathesis' for a 5xx)."""
        return self.message.strip() or self.title

    @property
    def note(self) -> bool:
        """Whether this is a note (an assumed choice the server made otherwise), not a failure."""
        return self.kind == "assumed"


@dataclass(frozen=True)
class RunStarted:
    """A contract run of one API begins."""

    api: str
    target: str
    seed: int
    max_examples: int
    samples: int
    org_ids: tuple[str, ...]
    strict: bool = False
    """Whether notes fail the run too."""


@dataclass(frozen=True)
class StageFinished:
    """One stage (a schemathesis phase, the repeated samples, or the probes) of one operation."""

    api: str
    stage: str
    operation: str
    requests: int
    checks: Counter[str] = field(default_factory=Counter)
    """How many responses each check looked at."""
    findings: tuple[Finding, ...] = ()
    skipped: str | None = None
    """Why the stage did not run, when it did not."""
    refused_by_http: int = 0
    """Requests that were not valid HTTP and got the HTTP parser's own 400 (not judged)."""


@dataclass(frozen=True)
class RunFinished:
    """A contract run of one API ends."""

    api: str
    seed: int | None
    """None for traffic the kit did not make (``usagemock proxy``): no seed replays it."""
    elapsed: float
    requests: int
    findings: tuple[Finding, ...]
    strict: bool = False
    """Whether notes fail the run too (``--strict``)."""

    @property
    def failures(self) -> tuple[Finding, ...]:
        """Findings that fail the run: documented and inferred breaks, and notes when strict."""
        return tuple(f for f in self.findings if self.strict or not f.note)

    @property
    def notes(self) -> tuple[Finding, ...]:
        """Findings that do not fail the run: where the server chose otherwise than the mock."""
        return tuple(f for f in self.findings if f.note and not self.strict)

    @property
    def passed(self) -> bool:
        """Whether no response broke a documented or inferred check (or any, when strict)."""
        return not self.failures

    @property
    def rate(self) -> float:
        """Requests per second over the whole run."""
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0


Event = RunStarted | StageFinished | RunFinished
