"""What a trial that raised records as its reason: where it ran, the innermost frame, the error."""

from __future__ import annotations

from search.tune.trainable import failure_reason


def test_failure_reason_names_the_node_the_frame_and_the_exception() -> None:
    try:
        int("x")
    except ValueError as exc:
        reason = failure_reason(exc, "n1 (ray node abc)")
    node, frame, exception = reason.splitlines()
    assert node == "node n1 (ray node abc)"
    assert "test_trainable.py:" in frame
    assert frame.endswith("in test_failure_reason_names_the_node_the_frame_and_the_exception")
    assert exception == "ValueError: invalid literal for int() with base 10: 'x'"
