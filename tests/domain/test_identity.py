"""Identities drawn from a trimmed Faker are the ones a full ``Faker("en_US")`` draws."""

from __future__ import annotations

from faker import Faker
from hypothesis import given
from hypothesis import strategies as st

from usagemock.domain.identity import company_name, org_id

FULL = Faker("en_US")


@given(seed=st.integers(0, 2**64 - 1))
def test_names_and_ids_are_a_full_fakers(seed: int) -> None:
    """The same seed gives the same company name and org id as every provider would give."""
    FULL.seed_instance(seed)
    name = FULL.company()
    FULL.seed_instance(seed)
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    identifier = "org_" + FULL.lexify("????????????", letters=letters)
    assert (company_name(seed), org_id(seed)) == (name, identifier)
