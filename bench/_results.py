"""Recording benchmark figures in bench/RESULTS.md, one ``## <section>`` block per benchmark.

A rerun replaces its own block and leaves the others alone; every block says on what machine and when
its figures were measured, because figures without that are not comparable.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = (
    "# Benchmark results\n\n"
    "Written by the scripts in bench/ (through `bench/_results.py`); rerun a script to refresh its block.\n"
)


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank; 0.5 is the median)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def machine_stamp() -> str:
    """One line naming the machine, the Python and the date of a measurement."""
    cpus = os.cpu_count() or 0
    today = datetime.date.today().isoformat()
    return (
        f"_Measured {today} on {platform.platform()} ({cpus} CPUs, {platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}._"
    )


def record(section: str, lines: list[str], path: Path = RESULTS) -> None:
    """Create or replace the ``## <section>`` block of ``path`` with ``lines`` and the machine stamp."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    block = "\n".join([f"## {section}", "", machine_stamp(), "", *lines]).rstrip() + "\n"
    pattern = re.compile(rf"^## {re.escape(section)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(lambda _: block + "\n", text, count=1)
    else:
        text = text.rstrip() + "\n\n" + block
    path.write_text(text.rstrip() + "\n", encoding="utf-8")
