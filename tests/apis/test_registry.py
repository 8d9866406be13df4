"""The registry lists every API's definition, refuses bad additions, and loads mock halves late."""

from __future__ import annotations

import dataclasses
import re

import pytest

from tests.thirdapi.seats import FACTS as SEATS
from usagemock import apis
from usagemock.errors import ConfigError
from usagemock.specs import lint
from usagemock.web.admin_spec import admin_document, record_moments


def test_the_bundled_apis_are_registered_in_order() -> None:
    """Timbal then Kenbun, each with its facts and a definition that points back at them."""
    assert apis.names() == ("timbal", "kenbun")
    for name in apis.names():
        assert apis.definition(name).facts is apis.facts(name)


def test_an_unknown_api_is_a_config_error_naming_those_there_are() -> None:
    """Asking for an API nobody registered says which there are."""
    with pytest.raises(ConfigError, match="No API named 'nope'; usagemock knows timbal, kenbun"):
        apis.facts("nope")


@pytest.mark.parametrize("name", ["Seats", "2seats", "se-ats", "", "all", "admin", "timbal"])
def test_a_name_that_cannot_be_an_api_is_refused(name: str) -> None:
    """A name must be a lower-case identifier, not reserved, and not taken."""
    with pytest.raises(ConfigError, match=repr(name)):
        apis.register(dataclasses.replace(SEATS, name=name))
    assert name not in apis.names() or name == "timbal"


def test_facts_pointing_at_another_apis_definition_are_refused() -> None:
    """A definition whose facts are another API's is a config error, not a silent mix-up."""
    wrong = dataclasses.replace(SEATS, name="seats2")
    apis.register(wrong)
    try:
        with pytest.raises(ConfigError, match="is the definition of 'seats', not of 'seats2'"):
            apis.definition("seats2")
    finally:
        apis.unregister("seats2")
    assert "seats2" not in apis.names()


def test_the_served_admin_spec_is_valid_and_lists_every_api() -> None:
    """The admin document as served (file plus each API's parts) is valid OpenAPI 3.1."""
    document = admin_document()
    schemas = document["components"]["schemas"]
    assert schemas["Api"]["enum"] == ["kenbun", "timbal"]
    assert [b["$ref"].rsplit("/", 1)[1] for b in schemas["OrgRecord"]["oneOf"]] == [
        "KenbunRecord",
        "TimbalRecord",
    ]
    assert lint(document) == []


def test_the_record_moments_come_from_every_apis_record_schema() -> None:
    """The moments the admin API checks in a replaced record are read off the schemas."""
    assert set(record_moments()) == {
        ("anchor",),
        ("applied_at",),
        ("organic", "since"),
        ("trial", "ends_at"),
    }


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("tests.thirdapi.seats", "is not 'module:attribute'"),
        ("tests.thirdapi.no_such_module:DEFINITION", "cannot be imported (No module named"),
        ("tests.thirdapi.seats:NOPE", "module tests.thirdapi.seats has no NOPE"),
    ],
)
def test_a_definition_that_cannot_be_had_is_one_config_error(where: str, says: str) -> None:
    """A wrong ``definition`` string says which API and what is wrong, not an import traceback."""
    apis.register(dataclasses.replace(SEATS, name="seats2", definition=where))
    try:
        with pytest.raises(ConfigError, match=re.escape(says)) as refused:
            apis.definition("seats2")
        assert "'seats2'" in str(refused.value) and "\n" not in str(refused.value)
    finally:
        apis.unregister("seats2")


def test_facts_copied_from_the_definitions_own_say_so() -> None:
    """Same name, another object (a copy, or a module run as a script): the message says why."""
    apis.register(dataclasses.replace(SEATS))
    try:
        with pytest.raises(ConfigError, match="another ApiFacts named 'seats' than the one"):
            apis.definition("seats")
    finally:
        apis.unregister("seats")


def test_a_sample_path_that_is_not_a_path_is_refused() -> None:
    """The banner's curl joins base URL and sample path: one without '/' would be a wrong URL."""
    with pytest.raises(ConfigError, match="sample_path 'seats' must start with '/'"):
        apis.register(dataclasses.replace(SEATS, sample_path="seats"))
    assert "seats" not in apis.names()
