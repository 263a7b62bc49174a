"""Apache Airflow provider for Bitcapital Core.

Importing this package is cheap: it defines the version and the provider info that Airflow reads
to discover the ``bitcapital`` connection type, and imports nothing else.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

DISTRIBUTION_NAME = "airflow-provider-bitcapital"


def get_provider_info() -> dict[str, Any]:
    """Return the provider metadata Airflow discovers through the ``apache_airflow_provider`` entry point."""
    from airflow_provider_bitcapital.connection_form import provider_conn_fields, provider_ui_field_behaviour

    return {
        "package-name": DISTRIBUTION_NAME,
        "name": "Bitcapital",
        "description": "Bitcapital Core: OAuth 2.0 connection, hook, operator, sensor and trigger.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Bitcapital",
                "external-doc-url": "https://github.com/bitcapital-hq",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Bitcapital",
                "python-modules": ["airflow_provider_bitcapital.hooks.bitcapital"],
            }
        ],
        "operators": [
            {
                "integration-name": "Bitcapital",
                "python-modules": ["airflow_provider_bitcapital.operators.bitcapital"],
            }
        ],
        "sensors": [
            {
                "integration-name": "Bitcapital",
                "python-modules": ["airflow_provider_bitcapital.sensors.bitcapital"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Bitcapital",
                "python-modules": ["airflow_provider_bitcapital.triggers.bitcapital"],
            }
        ],
        "connection-types": [
            {
                "connection-type": "bitcapital",
                "hook-class-name": "airflow_provider_bitcapital.hooks.bitcapital.BitcapitalHook",
                "hook-name": "Bitcapital",
                "conn-fields": provider_conn_fields(),
                "ui-field-behaviour": provider_ui_field_behaviour(),
            }
        ],
    }
