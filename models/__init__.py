"""The PyTorch Conv3D family, its layers and one-trial training.

May import data_prep, never search (no ray, no mlflow).
"""
