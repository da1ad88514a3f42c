"""Clusters: cluster.yaml (spec), the Slurm batch script and submission, the Slurm job's side of
the driver (slurm_job), Ray nodes. Imports search.tune for the record of a new search."""
