"""The service: CLI, Ray Tune + Optuna search, MLflow logging, resume, cluster. Imports all."""
