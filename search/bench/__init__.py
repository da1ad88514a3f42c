"""Benchmarks of the search service (local, Slurm) and the learning table, run by `magvox search
bench`. Imports search.tune, search.tracking, search.cluster and models."""
