"""Defaults of the service's options, one source each. Plain Python: ``magvox --help`` shows them
without importing Ray, torch or MLflow; the library's option classes and functions read them."""

FINAL_SEEDS = 1  # networks the best configuration is trained with for the test report (service)
WARM_K = 3  # with a warm start: how many best trials of the earlier search are tried first
OUTER_FOLDS = 5  # outer folds of a nested cross-validation (search.evaluation.assess)
ASSESS_FINAL_SEEDS = 5  # networks each outer fold's selected configuration is trained with
BENCH_TRIALS = 8  # trials per search of the service bench (search.bench.service)
BENCH_SEEDS = 3  # seeds of its TPE-against-random comparison
BENCH_TARGET = "ground_state"  # target of that comparison (both classes must occur)
EXPLAIN_STEPS = 64  # Integrated Gradients path points of magvox explain (search.evaluation.explain)
