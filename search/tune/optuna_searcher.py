"""Ray's OptunaSearch that writes its checkpoint only when its state changed.

The search saves Tune's experiment state after every controller step (``runner``: a driver killed
right after a trial finished must not forget it), and the controller steps every 0.1 s while it
waits. Ray's OptunaSearch pickles itself on every such save, which cost the driver ~0.3 s of CPU
per trial on 2 cores (py-spy, BENCHMARKS.md). Its state only changes when it hands out a
configuration, hears of a finished trial or is restored, so this subclass skips the write in
between; the last file written stays in place and is exactly what a new write would contain.
"""

from __future__ import annotations

from typing import Any

from ray.tune.search.optuna import OptunaSearch


class LazySaveOptunaSearch(OptunaSearch):
    """OptunaSearch whose ``save`` writes only after a state change (else leaves no file, so
    Tune keeps the previous checkpoint file)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._dirty = True
        super().__init__(*args, **kwargs)

    def _touch(self) -> None:
        self._dirty = True

    def set_search_properties(self, *args: Any, **kwargs: Any) -> bool:
        self._touch()
        return super().set_search_properties(*args, **kwargs)

    def suggest(self, trial_id: str) -> dict | None:
        self._touch()
        return super().suggest(trial_id)

    def on_trial_complete(self, *args: Any, **kwargs: Any) -> None:
        self._touch()
        super().on_trial_complete(*args, **kwargs)

    def add_evaluated_point(self, *args: Any, **kwargs: Any) -> None:
        self._touch()
        super().add_evaluated_point(*args, **kwargs)

    def restore(self, checkpoint_path: str) -> None:
        super().restore(checkpoint_path)
        self._dirty = True

    def save(self, checkpoint_path: str) -> None:
        """Pickle the searcher to ``checkpoint_path`` if it changed since the last save."""
        if not self._dirty:
            return
        self._dirty = False
        try:
            super().save(checkpoint_path)
        except BaseException:
            self._dirty = True
            raise
