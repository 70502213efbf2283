"""Dagster orchestration of the warehouse: load, validate, build, certify, publish."""
