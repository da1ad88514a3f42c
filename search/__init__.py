"""The service: CLI, Ray Tune + Optuna search, MLflow logging, resume, cluster launch. Imports all."""
