"""Register the ``integration`` marker, so that ``pytest -m "not integration"`` skips the slow tests."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: runs Airflow's own components as processes (slow)")
