"""Benchmarks, run by `magvox bench`: the records (one JSON per measurement) and BENCHMARKS.md
rendered from them and from the assessment records; the service's cost (local, Slurm) and the
learning table. Imports search.tune, search.tracking, search.cluster, search.evaluation, models
and data_prep."""
