"""The bench's per-trial figures from trial run times: interval, overhead, service cost, idle."""

from __future__ import annotations

import pytest

from search.bench.service import steady_state
from search.bench.tables import service


def test_service_cost_is_the_interval_less_the_trials_own_compute() -> None:
    # (start, end, trial_wall_s, compute_s): trials every 2.5 s, each computing 2.0 s
    times = [(10.0 + 2.5 * i, 12.4 + 2.5 * i, 2.3, 2.0 - 0.01 * (i % 2)) for i in range(5)]
    out = steady_state(times, bare=2.2)
    assert out["per_trial_s"] == pytest.approx(2.5)
    assert out["overhead_s"] == pytest.approx(0.3)
    assert out["compute_s"] == pytest.approx(2.0)  # median of 2.00, 1.99, 2.00, 1.99, 2.00
    # paired: intervals 2.5 less trials 1-4's compute 1.99, 2.00, 1.99, 2.00 -> median 0.505
    assert out["service_s"] == pytest.approx(0.505)
    assert out["service_pct"] == pytest.approx(25.25)
    assert out["gap_s"] == pytest.approx(0.1)
    record = {"date": "2026-12-07T04:10Z", "commit": "abc1234", "load": [0.5, 1.0],
              "machine": {"cores": 2, "cpu": "AMD EPYC"}, "command": "magvox bench service",
              "figures": {"rows": {"t": {**out, "startup_s": 9.0}}}}
    row = service([record])[-1]
    assert row == ("| 2026-12-07 04:10 UTC (abc1234), **current** | 2 cores (AMD EPYC); load "
                   "0.5-1.0 | t | 2.20 s | 2.00 s | 2.50 s | 0.30 s = 14% | **0.51 s** = 25% | "
                   "0.10 s | 9.0 s |")
