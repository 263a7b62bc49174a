"""Provider discovery and the connection form, on Airflow's own code paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import airflow
import jsonschema
import pytest

from airflow_provider_bitcapital import __version__, get_provider_info
from airflow_provider_bitcapital.connection_form import FORM_FIELDS
from airflow_provider_bitcapital.hooks.bitcapital import BitcapitalHook


def test_entry_point_returns_the_provider_info() -> None:
    (entry,) = [
        e
        for e in entry_points(group="apache_airflow_provider")
        if e.value.startswith("airflow_provider_bitcapital")
    ]
    info = entry.load()()
    assert info["package-name"] == "airflow-provider-bitcapital"
    assert info["versions"] == [__version__]


def test_provider_info_matches_airflows_schema() -> None:
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_connection_type_entry() -> None:
    (connection_type,) = get_provider_info()["connection-types"]
    assert connection_type["connection-type"] == BitcapitalHook.conn_type == "bitcapital"
    assert connection_type["hook-class-name"] == "airflow_provider_bitcapital.hooks.bitcapital.BitcapitalHook"
    assert connection_type["hook-name"] == BitcapitalHook.hook_name
    behaviour = connection_type["ui-field-behaviour"]
    assert behaviour["relabeling"] == {
        "host": "Instance URL",
        "login": "Client ID",
        "password": "Client Secret",
    }
    assert {"port", "schema"} <= set(behaviour["hidden-fields"])
    visible = {"host", "login", "password"} | set(connection_type["conn-fields"])
    assert set(behaviour["placeholders"]) == visible
    fields = connection_type["conn-fields"]
    assert fields["user_password"]["schema"]["format"] == "password"
    assert fields["token_cache"]["schema"]["enum"] == ["file", "memory", "none", None]


@pytest.fixture
def airflow31_form_mocks() -> Iterator[None]:
    """Stand in for wtforms and FAB exactly as Airflow's API server does on 3.0 and 3.1."""
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService as Meta

    modules = {
        "wtforms": types.SimpleNamespace(
            StringField=Meta.MockStringField,
            IntegerField=Meta.MockIntegerField,
            PasswordField=Meta.MockPasswordField,
        ),
        "wtforms.validators": types.SimpleNamespace(Optional=Meta.MockOptional, any_of=Meta.MockEnum),
        "flask_babel": types.SimpleNamespace(lazy_gettext=lambda text: text),
        "flask_appbuilder": types.SimpleNamespace(),
        "flask_appbuilder.fieldwidgets": types.SimpleNamespace(
            BS3TextFieldWidget=Meta.MockAnyWidget, BS3PasswordFieldWidget=Meta.MockAnyWidget
        ),
    }
    saved = {name: sys.modules.get(name) for name in modules}
    sys.modules.update(modules)  # type: ignore[arg-type]
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


@pytest.mark.usefixtures("airflow31_form_mocks")
def test_hook_form_methods_say_the_same_as_the_provider_info() -> None:
    (connection_type,) = get_provider_info()["connection-types"]
    # The shape Airflow 3.2+ gives each conn-fields entry in its API: the label becomes the title.
    from_info = {
        name: {
            "value": spec["schema"].get("default"),
            "schema": {**spec["schema"], "title": spec["label"]},
            "description": spec.get("description"),
        }
        for name, spec in connection_type["conn-fields"].items()
    }
    widgets = BitcapitalHook.get_connection_form_widgets()
    assert list(widgets) == list(from_info) == [field.name for field in FORM_FIELDS]
    for name, widget in widgets.items():
        from_hook = widget.param.dump()
        expected = from_info[name]
        assert from_hook["schema"]["title"] == expected["schema"]["title"], name
        assert from_hook["description"] == expected["description"], name
        assert from_hook["schema"].get("format") == expected["schema"].get("format"), name
        expected_enum = [value for value in expected["schema"].get("enum", []) if value is not None]
        assert from_hook["schema"].get("enum", []) == expected_enum, name
        hook_type, info_type = from_hook["schema"]["type"][0], expected["schema"]["type"][0]
        # Airflow 3.1 has no number field: a number there is typed into a text field.
        assert hook_type == ("string" if info_type == "number" else info_type), name
        assert str(from_hook["value"]) == str(expected["value"]), name
    behaviour = BitcapitalHook.get_ui_field_behaviour()
    kebab = connection_type["ui-field-behaviour"]
    assert behaviour == {
        "hidden_fields": kebab["hidden-fields"],
        "relabeling": kebab["relabeling"],
        "placeholders": kebab["placeholders"],
    }


def test_airflow_lists_the_hook() -> None:
    result = subprocess.run(
        [Path(sys.executable).parent / "airflow", "providers", "hooks", "--output", "json"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=180,
        check=True,
    )
    listing = next(line for line in result.stdout.splitlines() if line.startswith("["))
    hooks = {entry["connection_type"]: entry for entry in json.loads(listing)}
    assert hooks["bitcapital"]["class"] == "airflow_provider_bitcapital.hooks.bitcapital.BitcapitalHook"
    assert hooks["bitcapital"]["package_name"] == "airflow-provider-bitcapital"
    assert hooks["bitcapital"]["conn_id_attribute_name"] == "bitcapital_conn_id"


def test_api_server_builds_the_form_from_this_provider() -> None:
    """The metadata Airflow's API server sends to the connection form (3.1 via the hook, 3.2+ via info)."""
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    by_type = {meta.connection_type: meta for meta in HookMetaService.hook_meta_data()}
    form = by_type["bitcapital"]
    assert form.hook_name == "Bitcapital"
    assert sorted(form.extra_fields or {}) == sorted(field.name for field in FORM_FIELDS)
    standard = form.standard_fields
    assert standard is not None
    assert (standard.host.title, standard.login.title, standard.password.title) == (
        "Instance URL",
        "Client ID",
        "Client Secret",
    )
    assert standard.port.hidden
    assert standard.url_schema.hidden
    for field in FORM_FIELDS:
        schema = form.extra_fields[field.name]["schema"]
        assert schema["title"] == field.label, field.name
        assert (schema.get("format") == "password") == (field.kind == "password"), field.name
