"""Turn client credentials into access tokens, as rarely as possible, and sign requests.

This layer knows nothing of Airflow.
"""
