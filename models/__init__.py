"""The PyTorch Conv3D family, its layers and one-trial training.

May import data_prep, never search (no ray, no mlflow).
"""

# plain constants the CLI shows as defaults (read without importing torch)
CPU_THREADS = 2  # torch CPU threads of a command run by hand (train, predict, explain, bench)
