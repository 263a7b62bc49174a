"""Airflow-facing operators of the Bitcapital provider."""
