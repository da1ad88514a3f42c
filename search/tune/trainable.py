"""The Ray Tune trainable: one trial = models' ``run_trial`` on one configuration.

The trainable does no training itself. It turns the Tune config into TrialConfig fields, reports
each epoch's metrics to Tune with models' per-epoch checkpoint (so ASHA can stop a bad trial
between epochs and a trial interrupted by a crash resumes at its next epoch), and at the end
reports the final metrics, baselines and a checkpoint folder holding the trial's artifacts
(first-layer filters as .npy and pictures, model weights, result.json) for the MLflow callback.

Two kinds of failure, kept apart. A trial that raises (its own fault: a bug, a configuration that
only the data can refuse, no CUDA where Ray gave it a GPU) reports a final row with status
``failed`` and the reason; it is recorded and not tried again. A trial whose worker process or
node dies (the allocation ends, a node is lost, the OOM killer) is a Tune error, and Tune starts
it again from its last checkpoint (``runner.MAX_FAILURES``): Slurm kills the workers of a requeued
job as it kills the driver, and a trial that the dying driver saw fail must resume, not be lost.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from search.tracking import artifacts
from search.tracking.callbacks import NODE_KEY, STATUS_KEY
from search.tune.sampling import trial_dict
from search.tune.space import space_from_dict


def train(config: dict[str, Any], *, space: dict[str, Any], dataset: Any,
          cpus: float = 1.0, checkpoint_every_s: float = 10.0) -> None:
    """Tune function trainable (bind ``space`` and ``dataset`` with ``tune.with_parameters``).

    Args:
        config: the trial's Tune config (flat Optuna names plus the space's fixed fields).
        space: the search space as plain data (``Space.to_dict``).
        dataset: the shared dataset (``search.tune.data.SharedDataset``) or a path.
        cpus: CPUs Ray gave the trial; torch uses as many threads.
        checkpoint_every_s: shortest time between two per-epoch checkpoints handed to Tune.
    """
    import ray
    import torch
    from ray import tune

    from models.config import ConfigError
    from models.train import run_trial

    torch.set_num_threads(max(1, int(cpus)))
    node = node_name()
    # Ray shows the trial only the GPUs (or GPU fraction) it reserved: train there if any
    device = "cuda" if ray.get_gpu_ids() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():  # fail now, not hang or run on CPU
        tune.report({"epoch": 0, STATUS_KEY: "failed", "reason": (
            f"node {node}: Ray gave this trial GPU {ray.get_gpu_ids()} but CUDA is not usable "
            f"here (torch {torch.__version__}, CUDA_VISIBLE_DEVICES="
            f"{os.environ.get('CUDA_VISIBLE_DEVICES')!r}); give trials no GPUs "
            "(settings.gpus_per_trial: 0) or install a CUDA build of torch on the node")})
        return
    fields = trial_dict(space_from_dict(space), config)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="magvox-ckpt-") as ckpt:
        previous = tune.get_checkpoint()
        if previous is not None:  # restored trial: continue from its last epoch
            previous.to_directory(ckpt)

        last_saved = [time.perf_counter()]
        reporting = [0.0]  # s spent handing epochs to Tune (a report waits for the driver)

        def on_epoch(record: dict[str, float]) -> None:
            # hand Tune the epoch's checkpoint only every checkpoint_every_s: persisting it
            # costs more than re-training a short trial that a crash cut off
            begin = time.perf_counter()
            checkpoint = None
            if begin - last_saved[0] >= checkpoint_every_s:
                checkpoint = tune.Checkpoint.from_directory(ckpt)
                last_saved[0] = begin
            tune.report({**record, NODE_KEY: node}, checkpoint=checkpoint)
            reporting[0] += time.perf_counter() - begin

        try:
            begin = time.perf_counter()
            result = run_trial(fields, dataset, on_epoch=on_epoch, checkpoint_dir=Path(ckpt),
                               device=device)
            compute_s = time.perf_counter() - begin - reporting[0]
        except ConfigError as exc:  # a check that needs the data itself
            tune.report({"epoch": 0, STATUS_KEY: "infeasible", "reason": str(exc)})
            return
        except Exception as exc:  # the trial's own failure: recorded, not retried (module doc)
            traceback.print_exc()  # the whole traceback in the worker's log
            tune.report({"epoch": 0, STATUS_KEY: "failed", "reason": failure_reason(exc, node)})
            return
        folder = Path(ckpt)
        final = write_trial_files(folder, fields, result, time.perf_counter() - started)
        # run_trial's own time and the epochs' hand-over: what `magvox bench service` subtracts
        final.update(compute_s=compute_s, report_s=reporting[0])
        tune.report({**final, NODE_KEY: node}, checkpoint=tune.Checkpoint.from_directory(ckpt))


def failure_reason(exc: BaseException, node: str) -> str:
    """Why a trial failed, in a few lines: where it ran, the innermost frame, the exception."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    exception = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return "\n".join(line for line in (f"node {node}", where, exception) if line)


def node_name() -> str:
    """Where this trial runs: the Slurm node name (``SLURMD_NODENAME``, inherited from the
    ``srun`` that started this Ray node), else the host name; with the Ray node id."""
    import ray

    where = os.environ.get("SLURMD_NODENAME") or socket.gethostname()
    return f"{where} (ray node {ray.get_runtime_context().get_node_id()[:12]})"


def write_trial_files(folder: Path, fields: dict[str, Any], result: Any,
                      elapsed_s: float) -> dict[str, Any]:
    """Write the trial's artifacts into ``folder``; return the final row reported to Tune."""
    from models.saved import save_model

    summary = result.summary()
    # pictures are drawn by the driver, off the trial's path (search.tracking.callbacks)
    artifacts.save_filters(summary["filters"], folder, pictures=False)
    save_model(result.state_dict, result.config, folder / "model.pt", grid=result.grid,
               target_scale=result.target_scale)
    artifacts.write_json(folder / "result.json", {
        "config": fields, "history": summary["history"], "final": summary["final"],
        "baselines": summary["baselines"], "trial_wall_s": elapsed_s,
        "train_s": summary["train_s"], "diverged": summary["diverged"],
    })
    row: dict[str, Any] = dict(result.history[-1]) if result.history else {}
    row.update({STATUS_KEY: "completed", "epoch": summary["epochs"]})
    row.update(summary["final"])
    row.update(summary["baselines"])
    row.update({"trial_wall_s": elapsed_s, "train_s": summary["train_s"]})
    return row
