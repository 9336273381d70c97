"""Benchmarks: run on demand with `make bench` (never inside `make test`). Each prints figures."""
