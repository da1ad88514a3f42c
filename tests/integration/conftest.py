"""Fixtures of the integration tests: the throw-away Slurm (``slurm_fixture``)."""

from slurm_fixture import slurm  # noqa: F401  (a session fixture, used by test_slurm*.py)
