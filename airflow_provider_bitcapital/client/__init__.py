"""The HTTP client: one keep-alive session, tokens attached, safe retries, paging, typed errors.

This layer knows nothing of Airflow.
"""
