"""An ASHA stop forces Tune's experiment-state save in the same controller step."""

from __future__ import annotations

from types import SimpleNamespace

from search.tune.scheduler import SavedStopsASHA, force_state_save


class Manager:
    _should_force_sync_up = False


def test_a_stop_forces_the_save_and_a_continue_does_not():
    controller = SimpleNamespace(_checkpoint_manager=Manager())
    asha = SavedStopsASHA(time_attr="epoch", metric="m", mode="max", max_t=3, grace_period=1,
                          reduction_factor=2)
    good, bad = SimpleNamespace(trial_id="a"), SimpleNamespace(trial_id="b")
    for trial in (good, bad):
        asha.on_trial_add(controller, trial)
    assert asha.on_trial_result(controller, good, {"epoch": 1, "m": 0.9}) == asha.CONTINUE
    assert controller._checkpoint_manager._should_force_sync_up is False
    # below the rung's cut-off: stopped, and the save forced in this step
    assert asha.on_trial_result(controller, bad, {"epoch": 1, "m": 0.1}) == asha.STOP
    assert controller._checkpoint_manager._should_force_sync_up is True


def test_a_tune_without_the_switch_is_left_alone():
    assert force_state_save(SimpleNamespace()) is False


def test_this_ray_has_the_switch():
    """The installed Ray's controller keeps the manager under that name, and the manager the
    flag (a Ray upgrade that renames either fails here, not silently in a kill -9)."""
    import inspect

    from ray.tune.execution.experiment_state import _ExperimentCheckpointManager
    from ray.tune.execution.tune_controller import TuneController

    assert "self._checkpoint_manager = " in inspect.getsource(TuneController)
    assert "self._should_force_sync_up" in inspect.getsource(_ExperimentCheckpointManager)
