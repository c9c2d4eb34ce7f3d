"""Every benchmark in bench/ still runs: each script at its `--smoke` size, as a subprocess from the repository root.

Benchmarks are run by hand, rarely, so they rot unseen: bench/engine.py part (b) waited for ever once the inbox
learned to lease events (its Inbox remembered how far it had read, and the bench put rows back behind it). A smoke
run is tiny and records nothing in bench/RESULTS.md; only its exit and its printed figures are checked, never its
timings. PostgreSQL parts run when FSM_BOT_TEST_DATABASE_URL is set (that server URL is passed as the bench's own
PostgreSQL option; each bench makes a schema of its own); bench/scale.py needs PostgreSQL and is skipped otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _cpu_budget import CpuBudget  # noqa: E402  (bench/ is scripts, not a package)

RESULTS = ROOT / "bench" / "RESULTS.md"
POSTGRES = os.environ.get("FSM_BOT_TEST_DATABASE_URL")


def arguments(bench: str) -> list[str]:
    """The smoke run's command line for `bench`, with PostgreSQL when the tests have it."""
    postgres = {
        "engine": ["--postgres-url", POSTGRES] if POSTGRES else ["--skip-postgres"],
        "poison": ["--postgres-url", POSTGRES] if POSTGRES else ["--skip-postgres"],
        "broadcast": ["--postgres", POSTGRES or ""],
        "reminders": ["--database", "both", "--postgres", POSTGRES] if POSTGRES else ["--database", "sqlite"],
        "scale": ["--postgres", POSTGRES or ""],
        "scale-budget": ["--postgres", POSTGRES or "", "--worker-cpu", "1", "--lanes-per-worker"],
    }
    script = bench.split("-")[0]
    return [sys.executable, f"bench/{script}.py", "--smoke", *postgres.get(bench, [])]


# What each bench prints once its figures are in: a line of its table per backend it ran.
FIGURES = {
    "engine": [
        "| burst: 10 people write «помощь» at once |",
        "| pipelined per user, 3 steps |",
        "| **engine: Dispatcher + EventHandler + FSM** |",
        "| after 400 events",
    ],
    "poison": [
        "| SQLite | (a) baseline |",
        "| SQLite | (b) «испорти» (refused) |",
        "| SQLite | (c) «зависни» (stuck) |",
    ],
    "broadcast": ["| gateway, SQLite (1 runs) |", "| floor: "],
    "gateway": ["| gateway, sustained: 60 users |", "| naive: one messages.send per reply"],
    "sandbox": ["| `utils.getServerTime` calls/s", "| long poll latency from send issued"],
    "reminders": ["Median SQLite run"],
    "scale": ["**(1) Events**", "**(2) Broadcast**"],
    "scale-budget": ["**(1) Events**", "a cgroup of its own", "Each worker had 1 cores of its own"],
    "catch_up": ["| during the catch-up |", "| without a catch-up |", "**Live latency during / without"],
}
POSTGRES_FIGURES = {
    "engine": ["| measure | SQLite | PostgreSQL |"],
    "poison": ["| PostgreSQL | (c) «зависни» (stuck) |"],
    "broadcast": ["| gateway, PostgreSQL (1 runs) |"],
    "reminders": ["Median PostgreSQL run"],
}


@pytest.mark.timeout(420)
@pytest.mark.parametrize("bench", list(FIGURES))
def test_the_bench_runs_at_its_smoke_size_and_prints_its_figures(bench: str) -> None:
    if bench.startswith("scale") and not POSTGRES:
        pytest.skip("bench/scale.py runs on PostgreSQL only: set FSM_BOT_TEST_DATABASE_URL")
    unavailable = CpuBudget(1).available() if bench == "scale-budget" else None
    if unavailable:
        pytest.skip(f"no CPU budgets here: {unavailable}")
    results_before = RESULTS.read_bytes() if RESULTS.exists() else None
    done = subprocess.run(arguments(bench), cwd=ROOT, capture_output=True, text=True, timeout=400)
    story = f"stdout (end):\n{done.stdout[-3000:]}\nstderr (end):\n{done.stderr[-3000:]}"
    assert done.returncode == 0, story
    expected = FIGURES[bench] + (POSTGRES_FIGURES.get(bench, []) if POSTGRES else [])
    missing = [figure for figure in expected if figure not in done.stdout]
    assert not missing, f"{missing} not printed\n{story}"
    assert (RESULTS.read_bytes() if RESULTS.exists() else None) == results_before, "a smoke run wrote RESULTS.md"


def test_a_cpu_budget_holds_its_process_at_the_quota_and_is_removed_afterwards() -> None:
    """The cgroup bench/scale.py --worker-cpu puts each worker in: the process is in it, the quota is the
    budget, and closing leaves no cgroup behind (a leftover would pin a later process with the same pid)."""
    budget = CpuBudget(0.25, prefix="fsm-test")
    if budget.available():
        pytest.skip(f"no CPU budgets here: {budget.available()}")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        budget.limit(child.pid)
        group = budget.group(child.pid)
        assert str(child.pid) in (group / "cgroup.procs").read_text().split()
        quota = group / "cpu.cfs_quota_us"
        if quota.exists():
            assert int(quota.read_text()) == 25_000 and int((group / "cpu.cfs_period_us").read_text()) == 100_000
        else:
            assert (group / "cpu.max").read_text().split() == ["25000", "100000"]
        budget.close()
        assert not group.exists()
    finally:
        child.kill()
        child.wait()
        budget.close()
