"""Every scenario file under tests/scenarios/, played against the bot (docs/scenarios.md).

Each file gets a fresh app and database, on SQLite or PostgreSQL like every other test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.scenario import run_scenario_file

SCENARIOS = Path(__file__).parent / "scenarios"


@pytest.mark.parametrize("path", sorted(SCENARIOS.rglob("*.yaml")),
                         ids=lambda path: str(path.relative_to(SCENARIOS)))
def test_scenario(app, path):
    failures = [result.summary() for result in run_scenario_file(app, path) if not result.passed]
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
