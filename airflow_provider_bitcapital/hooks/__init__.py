"""Airflow-facing hooks of the Bitcapital provider."""
