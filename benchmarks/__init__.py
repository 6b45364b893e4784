"""Benchmarks of the dashboard's speed targets; `make bench` (python -m benchmarks) prints one table."""
