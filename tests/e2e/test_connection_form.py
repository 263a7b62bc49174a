"""The ``bitcapital`` connection form in Airflow's own web UI, driven by headless Chromium.

The first test reads the empty form field by field; the second fills it to point at the sandbox,
saves it, presses Test, then breaks the client secret and presses Test again. Screenshots and a
table of the fields as the browser showed them are written to ``build/e2e-screenshots/``.

Known limitation: Airflow 3.3.1 and 3.3.2 answer the Test button of the connection list with
"Bad Request" for every connection without a port, whatever its type: the UI sends port 0 for
"no port", which the API server takes for a different destination (fixed in a later Airflow by
apache/airflow#73298). When the installed Airflow has that bug, the tests rewrite port 0 to no
port in the browser's test request, as the fixed Airflow reads it, so that what the Test button
shows is the provider's own answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from airflow_provider_bitcapital.connection_form import (
    FORM_FIELDS,
    HIDDEN_FIELDS,
    RELABELING,
    STANDARD_PLACEHOLDERS,
)

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Locator, Page, Route

    from airflow_provider_bitcapital.sandbox import SandboxServer
    from tests.e2e.conftest import AirflowUI

pytestmark = pytest.mark.e2e

CONNECTION_ID = "bitcapital_e2e"
WRONG_SECRET = "not-the-sandbox-secret"
TALL_VIEWPORT = {"width": 1400, "height": 2600}
TOAST = '[data-scope="toast"][data-part="root"]'
EMPTY_CHOICE = "__null__"  # what Airflow's dropdowns hold while no choice is made
STANDARD_LABELS = {
    "host": "Host",
    "port": "Port",
    "schema": "Schema",
    "login": "Login",
    "password": "Password",
}


@dataclass(frozen=True)
class ShownField:
    """One field of the form as the browser rendered it."""

    name: str
    label: str
    placeholder: str | None
    masked: bool
    value: str
    description: str

    def row(self) -> str:
        placeholder = self.placeholder or "(none)"
        masked = "yes" if self.masked else "no"
        return f"| {self.name} | {self.label} | {placeholder} | {masked} | {self.value} |"


def test_form_shows_every_field_as_declared(page: Page, airflow_ui: AirflowUI, screenshots: Path) -> None:
    dialog = open_add_connection_dialog(page, airflow_ui)
    shown = read_standard_fields(dialog) + read_extra_fields(dialog)
    write_field_table(shown, screenshots / "form-fields.md")

    for name, label in RELABELING.items():
        field = next(field for field in shown if field.name == name)
        assert field.label == label, f"{name} is labelled {field.label!r}, expected {label!r}"
        assert field.placeholder == STANDARD_PLACEHOLDERS[name], f"placeholder of {label}"
        assert field.masked == (name == "password"), f"{label} masked: {field.masked}"
    replaced = [STANDARD_LABELS[name] for name in (*HIDDEN_FIELDS, *RELABELING) if name in STANDARD_LABELS]
    for label in replaced:
        assert dialog.get_by_label(label, exact=True).count() == 0, (
            f"the form shows Airflow's {label!r} field"
        )

    extras = [field for field in shown if field.name not in RELABELING]
    assert [field.name for field in extras] == [field.name for field in FORM_FIELDS], "custom field order"
    for declared, field in zip(FORM_FIELDS, extras, strict=True):
        assert field.label == declared.label, f"label of {declared.name}"
        assert field.description == declared.description, f"description of {declared.name}"
        assert field.masked == (declared.kind == "password"), f"{declared.label} masked: {field.masked}"
        assert field.value != "***", f"{declared.label} starts as '***', which saving would store"
        assert field.value == as_shown(declared.default), f"{declared.label} starts as {field.value!r}"
        if declared.kind != "password":
            # Airflow shows no placeholder for custom fields, so the description names the example.
            assert declared.placeholder in field.description, f"{declared.label} never shows its example"
        if declared.choices and declared.default is None:
            empty_choice = field_row(dialog, f"element_{declared.name}").get_by_text(
                f"default ({declared.placeholder})", exact=True
            )
            expect_visible(empty_choice, f"{declared.label} starting on 'default ({declared.placeholder})'")


def test_add_test_and_break_a_connection(
    page: Page, airflow_ui: AirflowUI, sandbox: SandboxServer, screenshots: Path
) -> None:
    work_around_port_zero(page)
    dialog = open_add_connection_dialog(page, airflow_ui)
    dialog.get_by_label("Instance URL", exact=True).fill(sandbox.url)
    dialog.get_by_label("Client ID", exact=True).fill(sandbox.client_id)
    dialog.get_by_label("Client Secret", exact=True).fill(sandbox.client_secret)
    screenshot(page, screenshots / "1-filled-standard-fields.png")
    open_section(dialog, "Extra Fields")
    dialog.locator('[name="element_token_url"]').fill("/oauth/token")
    dialog.locator('[name="element_timeout"]').fill("10")
    choose(dialog, "token_cache", "none")
    screenshot(page, screenshots / "2-filled-extra-fields.png")

    dialog.get_by_role("button", name="Save").click()
    expect_closed(dialog)
    row = connection_row(page)
    expect_visible(row.get_by_text(sandbox.url), f"the list shows {CONNECTION_ID} with host {sandbox.url}")
    stored = stored_extra(airflow_ui)
    saved = {name: str(stored[name]) for name in ("token_url", "token_cache", "timeout")}
    assert saved == {"token_url": "/oauth/token", "token_cache": "none", "timeout": "10"}, stored

    token_requests = sandbox.token_requests
    message = press_test(page, "Test Connection Successful", screenshots / "3-test-succeeded.png")
    assert message.startswith(f"Connected to {sandbox.url} ("), message
    assert "token valid" in message, message
    assert sandbox.token_requests == token_requests + 1

    row.get_by_role("button", name="Edit Connection").click()
    dialog = page.get_by_role("dialog")
    expect_visible(dialog.get_by_role("heading", name="Edit Connection"), "the Edit Connection dialog")
    dialog.get_by_label("Client Secret", exact=True).fill(WRONG_SECRET)
    dialog.get_by_role("button", name="Save").click()
    expect_closed(dialog)

    message = press_test(page, "Test Connection Failed", screenshots / "4-test-failed.png")
    assert "HTTP 401" in message, message
    assert "invalid_client" in message, message
    assert "client secret" in message, message
    assert WRONG_SECRET not in message
    print(f"\nTest succeeded, then failed with: {message}")


def open_add_connection_dialog(page: Page, airflow_ui: AirflowUI) -> Locator:
    """Go Admin → Connections → Add Connection, name the connection and pick type Bitcapital."""
    page.goto(airflow_ui.url)
    page.get_by_role("button", name="Admin").click()
    page.get_by_role("menuitem", name="Connections").click()
    page.wait_for_url(re.compile(r"/connections$"))
    page.get_by_role("button", name="Add Connection").click()

    dialog = page.get_by_role("dialog")
    expect_visible(dialog.get_by_role("heading", name="Add Connection"), "the Add Connection dialog")
    dialog.get_by_label("Connection ID").fill(CONNECTION_ID)
    dialog.get_by_role("combobox").fill("Bitcapital")
    option = page.get_by_role("option", name="Bitcapital", exact=True)
    expect_visible(option, "connection type Bitcapital in the type list (is the provider installed?)")
    option.click()
    expect_visible(dialog.get_by_label("Instance URL", exact=True), "the Bitcapital standard fields")
    return dialog


def read_standard_fields(dialog: Locator) -> list[ShownField]:
    """Read the relabelled standard fields, which the form shows first."""
    shown = []
    for name, label in RELABELING.items():
        field = dialog.get_by_label(label, exact=True)
        expect_visible(field, f"the {label} field")
        shown.append(
            ShownField(
                name=name,
                label=label,
                placeholder=field.get_attribute("placeholder"),
                masked=field.get_attribute("type") == "password",
                value=field.input_value(),
                description="",
            )
        )
    return shown


def read_extra_fields(dialog: Locator) -> list[ShownField]:
    """Open the Extra Fields section and read every custom field, in the order shown."""
    open_section(dialog, "Extra Fields")
    names = dialog.locator('[name^="element_"]').evaluate_all("inputs => inputs.map(input => input.name)")
    shown = []
    for element_name in names:
        value_input = dialog.locator(f'[name="{element_name}"]')
        row = field_row(dialog, element_name)
        visible_input = row.locator("input:not([type=hidden])").first
        shown.append(
            ShownField(
                name=element_name.removeprefix("element_"),
                label=row.locator("label").inner_text().strip(),
                placeholder=visible_input.get_attribute("placeholder"),
                masked=visible_input.get_attribute("type") == "password",
                value=value_input.input_value().replace(EMPTY_CHOICE, ""),
                description=row.locator('[data-part="helper-text"]').inner_text().strip(),
            )
        )
    return shown


def field_row(dialog: Locator, element_name: str) -> Locator:
    """The row (label, input, description) of the form input named ``element_name``."""
    value_input = dialog.page.locator(f'[name="{element_name}"]')
    return dialog.locator('[data-scope="field"][data-part="root"]').filter(has=value_input)


def open_section(dialog: Locator, title: str) -> None:
    """Open one accordion section of the form (the form shows one section at a time)."""
    trigger = dialog.get_by_role("button", name=title, exact=True)
    if trigger.get_attribute("aria-expanded") != "true":
        trigger.click()
    expect_attribute(trigger, "aria-expanded", "true", f"the {title} section opened")


def choose(dialog: Locator, name: str, choice: str) -> None:
    """Pick ``choice`` in the dropdown of custom field ``name``."""
    value_input = dialog.locator(f'[name="element_{name}"]')
    field_row(dialog, f"element_{name}").get_by_role("combobox").click()
    dialog.page.get_by_role("option", name=choice, exact=True).click()
    expect_attribute(value_input, "value", choice, f"{name} set to {choice}")


def connection_row(page: Page) -> Locator:
    """The row of the test's connection in the connection list."""
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=CONNECTION_ID, exact=True))
    expect_visible(row, f"{CONNECTION_ID} in the connection list")
    return row


def press_test(page: Page, title: str, path: Path) -> str:
    """Press the connection's Test button, wait for the result titled ``title`` and return its message."""
    toasts = page.locator(TOAST)
    page.mouse.move(0, 0)  # a message under the pointer never closes
    expect_count(toasts, 0, "the earlier messages closing on their own")
    connection_row(page).get_by_role("button", name="Test Connection").click()

    toast = toasts.filter(has=page.locator('[data-part="title"]', has_text=title)).first
    try:
        expect_visible(toast, f"a {title!r} message after pressing Test")
    except AssertionError:
        raise AssertionError(f"expected {title!r}; the page shows {toasts.all_inner_texts()}") from None
    # A success message closes after two seconds: photograph it as soon as it has slid in.
    toast.evaluate("toast => Promise.all(toast.getAnimations({subtree: true}).map(a => a.finished))")
    page.screenshot(path=str(path))
    return toast.locator('[data-part="description"]').inner_text().strip()


def stored_extra(airflow_ui: AirflowUI) -> dict[str, object]:
    """Return the saved connection's extra as stored, read with the ``airflow`` command line."""
    output = airflow_ui.airflow("connections", "get", CONNECTION_ID, "--output", "json").stdout
    listing = next(line for line in output.splitlines() if line.startswith("["))
    (connection,) = json.loads(listing)
    extra: dict[str, object] = connection["extra_dejson"]
    return extra


def as_shown(default: object) -> str:
    """Return a default value as the form's input shows it (``30.0`` as ``30``)."""
    if default is None:
        return ""
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


def work_around_port_zero(page: Page) -> None:
    """Send "no port" instead of port 0 in test requests, on an Airflow that rejects port 0."""
    if not airflow_rejects_port_zero():
        return

    def send_no_port(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        if body.get("port") == 0:
            body["port"] = None
        route.continue_(post_data=json.dumps(body))

    page.route("**/api/v2/connections/test", send_no_port)


def airflow_rejects_port_zero() -> bool:
    """Tell whether this Airflow's test endpoint takes port 0 for a different destination than none."""
    try:
        from airflow.api_fastapi.core_api.routes.public.connections import _same_endpoint
    except ImportError:
        return False
    return not _same_endpoint(0, None)


def screenshot(page: Page, path: Path) -> None:
    """Photograph the whole dialog, which is taller than the window."""
    size = page.viewport_size
    page.set_viewport_size(TALL_VIEWPORT)
    page.screenshot(path=str(path))
    if size is not None:
        page.set_viewport_size(size)


def write_field_table(shown: list[ShownField], path: Path) -> None:
    lines = [
        "| field | label | placeholder | masked | starts as |",
        "|---|---|---|---|---|",
        *(field.row() for field in shown),
    ]
    path.write_text("\n".join(lines) + "\n")
    print(f"\nThe form as the browser showed it ({path}):\n" + "\n".join(lines))


def expect_visible(locator: Locator, what: str) -> None:
    from playwright.sync_api import expect

    try:
        expect(locator).to_be_visible()
    except AssertionError:
        raise AssertionError(f"the page never showed {what}") from None


def expect_count(locator: Locator, count: int, what: str) -> None:
    from playwright.sync_api import expect

    try:
        expect(locator).to_have_count(count)
    except AssertionError:
        raise AssertionError(f"the page never showed {what}") from None


def expect_closed(dialog: Locator) -> None:
    from playwright.sync_api import expect

    try:
        expect(dialog).to_have_count(0)
    except AssertionError:
        errors = dialog.locator('[role="alert"]').all_inner_texts()
        raise AssertionError(f"the dialog stayed open after Save; it shows {errors}") from None


def expect_attribute(locator: Locator, name: str, value: str, what: str) -> None:
    from playwright.sync_api import expect

    try:
        expect(locator).to_have_attribute(name, value)
    except AssertionError:
        raise AssertionError(f"the page never showed {what}") from None
