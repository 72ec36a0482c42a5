"""Orchestration: Prefect flows over the plain functions of `tasks/`, and the `xxgk` command line."""
