"""Deterministic identities: every random choice about an org comes from (seed, api, key)."""

from __future__ import annotations

import functools
import hashlib
import random

from faker import Faker

# Only the providers company() and lexify() draw from: the same draws as a full Faker("en_US")
# (tests/domain/test_identity.py holds them equal), built in a quarter of the time at start-up.
_faker = Faker("en_US", providers=["faker.providers.company", "faker.providers.person"])


def derive_seed(seed: int, *parts: str) -> int:
    """A stable 64-bit seed for ``parts`` (Python's hash() changes between processes)."""
    digest = hashlib.blake2b(":".join((str(seed), *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rng_for(seed: int, *parts: str) -> random.Random:
    """A random generator private to ``parts``: the same arguments give the same draws."""
    return random.Random(derive_seed(seed, *parts))


def company_name(seed: int) -> str:
    """A realistic organisation name, the same for the same seed."""
    # One shared Faker reseeded per call: building a Faker per org costs milliseconds, and the
    # domain runs synchronously, so no other caller can draw between seed_instance and company().
    _faker.seed_instance(seed)
    return str(_faker.company())


def org_id(seed: int) -> str:
    """An opaque org identifier: ``org_`` and 12 lower case letters and digits."""
    _faker.seed_instance(seed)
    return "org_" + _faker.lexify("????????????", letters="abcdefghijklmnopqrstuvwxyz0123456789")


@functools.lru_cache(maxsize=4096)  # reseeding faker on every request costs 5% of one
def token_org_id(api: str, token: str, seed: int) -> str:
    """The org a token stands for in ``api`` when no fixture names one: derived from the token."""
    return org_id(derive_seed(seed, f"{api}-id", token))
