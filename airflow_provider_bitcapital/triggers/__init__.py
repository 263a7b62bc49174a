"""Airflow-facing triggers of the Bitcapital provider."""
