"""The mock half of an API definition: the one protocol every API implements for the mock.

The engine, the scenarios, the store's JSON form and the web layer reach an API only through
an :class:`ApiDefinition` found by :func:`usagemock.apis.definition`; none of them names one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from usagemock.apis.api_facts import ApiFacts
from usagemock.domain.records import Account
from usagemock.domain.usage import Ingest

A = TypeVar("A", bound=Account)


class ApiDefinition(Protocol[A]):
    """Everything the mock needs that is particular to one API, for its account type ``A``."""

    @property
    def facts(self) -> ApiFacts:
        """Its name, spec, rules and kit facts (the registry's entry)."""

    @property
    def operation_id(self) -> str:
        """The operationId of its one operation in its spec: the mock's handler serves it."""

    @property
    def scenario_section(self) -> Mapping[str, Any]:
        """JSON Schema properties of its section in a scenario file, besides the shared ones.

        Every section may also hold ``timeline``, ``fault`` and ``expect``
        (:mod:`usagemock.apis.sections`).
        """

    @property
    def record_schema(self) -> Mapping[str, Any]:
        """Its account's fields in a stored record, for the admin API's ``OrgRecord``.

        A JSON Schema object with ``properties`` and ``required`` (beside ``api``, ``org_id``
        and the parts every record has); it may ``$ref`` the admin spec's components.
        """

    def generate(self, org_id: str, seed: int, name: str | None) -> A:
        """The account ``org_id`` has before anyone changes it, from the seed (and its name)."""

    def answer(self, account: A, now: datetime, ingests: Sequence[Ingest]) -> dict[str, Any]:
        """The documented JSON body of its operation for ``account`` at ``now``."""

    def moments(self, account: A) -> tuple[datetime, ...]:
        """Moments the account holds besides its ingests (say, a trial's end).

        A scenario that makes one outside the calendar is refused when its file loads.
        """

    def account_json(self, account: A) -> dict[str, Any]:
        """The account's own fields of its stored record (``org_id`` and ``organic`` aside)."""

    def account_from_json(self, data: Mapping[str, Any]) -> A:
        """The account a stored record (validated against its schema) describes."""

    def durations(self, section: Mapping[str, Any]) -> Sequence[str]:
        """The ISO 8601 durations in a scenario section's own fields (the timeline aside)."""

    def apply_section(
        self, scenario: str, base: A, section: Mapping[str, Any], now: datetime
    ) -> tuple[A, tuple[Ingest, ...]]:
        """``base`` put into scenario ``scenario``'s section at ``now``: account and ingests.

        Raises :class:`usagemock.errors.FixtureError` for numbers the API cannot hold.
        """

    def error_body(self, status: int, detail: str) -> tuple[bytes, str]:
        """An error response in the body its vendor documents: (body, media type)."""
