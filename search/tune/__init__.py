"""The search itself: spaces, samplers, the Tune runner and trainable, feasibility, search state,
the service (start, resume, extend). Imports models, data_prep, search.tracking and
search.cluster.slurm_job; never search.commands."""
