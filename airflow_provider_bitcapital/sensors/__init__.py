"""Airflow-facing sensors of the Bitcapital provider."""
