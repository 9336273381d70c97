"""CPU seconds used by groups of processes, read from /proc: what the servers spent on a run,
apart from the load generator that shares the cores with them."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stats() -> dict[int, tuple[str, int, float]]:
    """pid → (command name, parent pid, CPU seconds so far) for every live process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        found[int(entry.name)] = (name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS)
    return found


def cpu_seconds(root_pids: list[int] = (), names: tuple[str, ...] = ()) -> float:
    """CPU used so far by the given processes and their descendants, and by every process whose
    command name is in ``names`` (e.g. ``postgres``, ``redis-server``)."""
    stats = _stats()
    children: dict[int, list[int]] = {}
    for pid, (_name, parent, _cpu) in stats.items():
        children.setdefault(parent, []).append(pid)
    counted, todo = set(), list(root_pids)
    while todo:
        pid = todo.pop()
        if pid in counted or pid not in stats:
            continue
        counted.add(pid)
        todo.extend(children.get(pid, []))
    counted |= {pid for pid, (name, _parent, _cpu) in stats.items() if name in names}
    return sum(stats[pid][2] for pid in counted)
