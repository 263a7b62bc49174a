"""The connection form's declarations, as Airflow's API server hands them to the web UI."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_bitcapital.connection_form import (
    FORM_FIELDS,
    describe_problems,
    field_label,
    provider_conn_fields,
)
from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook
from tests.conftest import ConnectionFactory


def test_the_ui_receives_every_default_unmasked() -> None:
    # Airflow masks the value of any extra whose name holds a sensitive word ("token" is one);
    # a masked default would be shown, and saved, as "***".
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    by_type = {meta.connection_type: meta for meta in HookMetaService.hook_meta_data()}
    extra_fields = by_type["bitcapital"].extra_fields or {}
    for field in FORM_FIELDS:
        value = extra_fields[field.name]["value"]
        assert value != "***", field.name
        # Airflow 3.1 builds the form from the hook, whose number fields hold text ("30.0").
        assert str(value) == str(field.default), field.name


@pytest.mark.parametrize("field", [field for field in FORM_FIELDS if field.kind != "password"], ids=str)
def test_each_description_names_the_example(field: Any) -> None:
    # The UI shows no placeholder for custom fields: the description has to carry the example.
    assert field.placeholder in field.description


def test_an_empty_dropdown_reads_as_its_default() -> None:
    conn_fields = provider_conn_fields()
    for field in FORM_FIELDS:
        if not field.choices:
            continue
        schema = conn_fields[field.name]["schema"]
        assert schema["enum"][-1] is None
        default = schema["values_display"]["null"].removeprefix("default (").removesuffix(")")
        assert default in field.choices, field.name


def test_problems_are_one_paragraph_in_the_forms_words() -> None:
    message = describe_problems(
        [
            ("host", "required: the instance URL"),
            ("max_retries", "got 'x'; expected a number."),
            ("port", "bad"),
        ]
    )
    assert message == (
        "Invalid connection settings. Instance URL (host): required: the instance URL. "
        "Max Retries (max_retries): got 'x'; expected a number. port: bad."
    )
    assert field_label("token_cache") == "Token Cache"
    assert field_label("extra") == "extra"


def test_test_connection_names_wrong_fields_by_their_labels(sandbox_connection: ConnectionFactory) -> None:
    ok, message = BitcapitalHook(sandbox_connection(timeout="0", max_retries="many")).test_connection()
    assert not ok
    assert "\n" not in message
    assert message.startswith("Invalid connection settings. ")
    assert "Timeout (seconds) (timeout): " in message
    assert "Max Retries (max_retries): " in message


def test_test_connection_drops_the_class_name_of_its_own_errors(
    sandbox_connection: ConnectionFactory,
) -> None:
    ok, message = BitcapitalHook(sandbox_connection(password="wrong-secret", max_retries=0)).test_connection()
    assert not ok
    assert message.startswith("Bitcapital token endpoint refused the request with HTTP 401"), message
