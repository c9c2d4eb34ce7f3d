"""A fixed CPU budget for one process, through the kernel's CFS quota (a cgroup of its own).

Why: scale-out asks whether N workers do N times the work of one, each on CPU of its own (its own host or
core, as a deployment gives it). On a machine with fewer cores than the bench's own processes need (the
sandbox, PostgreSQL, the people's sends), the workers would compete with those for the same cores and the
question could not be answered. Giving every worker the same slice of a core (say 0.3) puts that slice, not
the machine, in charge of one worker's speed, with room left for the rest, so 2 workers may show 2x.

cgroup v1 (`/sys/fs/cgroup/cpu`) and v2 (a unified hierarchy with the cpu controller) both work; either needs
root. `CpuBudget.available` says why not when neither does, so the bench can refuse with a clear message.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PERIOD_US = 100_000
V1_ROOT = Path("/sys/fs/cgroup/cpu")
V2_ROOTS = (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))


def _v2_root() -> Path | None:
    for root in V2_ROOTS:
        controllers = root / "cgroup.controllers"
        if controllers.exists() and "cpu" in controllers.read_text().split():
            return root
    return None


class CpuBudget:
    """Cgroups named `<prefix>-<pid>`, each holding one process at `cores` of CPU time per wall second."""

    def __init__(self, cores: float, prefix: str = "fsm-bench") -> None:
        self.cores = cores
        self.prefix = prefix
        self._made: list[Path] = []
        self._v1 = (V1_ROOT / "cpu.cfs_quota_us").exists()
        self._root = V1_ROOT if self._v1 else _v2_root()

    def available(self) -> str | None:
        """None when budgets can be set here, else why not."""
        if self._root is None:
            return "no cgroup cpu controller (v1 /sys/fs/cgroup/cpu, or v2 with «cpu» in cgroup.controllers)"
        if not os.access(self._root, os.W_OK):
            return f"{self._root} is not writable (run as root)"
        return None

    def group(self, pid: int) -> Path:
        """The cgroup (a directory) that holds process `pid` once it is limited."""
        assert self._root is not None, self.available()
        return self._root / f"{self.prefix}-{pid}"

    def limit(self, pid: int) -> None:
        """Move process `pid` (every thread of it) into a cgroup of its own with the budget."""
        group = self.group(pid)
        group.mkdir(exist_ok=True)
        self._made.append(group)
        quota = max(1000, round(self.cores * PERIOD_US))
        if self._v1:
            (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (group / "cpu.cfs_quota_us").write_text(str(quota))
        else:
            (group / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        (group / "cgroup.procs").write_text(str(pid))

    def close(self) -> None:
        """Remove the cgroups (their processes have exited or go back to the root group first)."""
        for group in self._made:
            with contextlib.suppress(OSError):
                for pid in (group / "cgroup.procs").read_text().split():
                    (group.parent / "cgroup.procs").write_text(pid)
            with contextlib.suppress(OSError):
                group.rmdir()
        self._made.clear()
