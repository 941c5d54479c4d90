"""A crash at every write point of publish, deploy, rollback, restore and sync: the next command
finishes (or undoes) the change, and refs, client files and the audit log agree again."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from integrity import SCENARIOS, Scenario, crash_scenario

pytestmark = pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_a_crash_at_any_write_point_is_finished_or_undone(
    scenario: Scenario, tmp_path: Path
) -> None:
    result = crash_scenario(scenario, tmp_path)
    assert result.points >= 5, f"{scenario.name} passed only {result.points} write points"
    assert result.tried == result.points
    assert result.failures == []
    # some crashes leave a half-done change behind, and every one of those was repaired
    assert result.detected > 0
    assert result.repaired == result.detected
