"""Tests that run Airflow itself: scheduler, executor, API server, DAG processor and triggerer."""
