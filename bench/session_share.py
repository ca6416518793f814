"""Does a niceness reach across sessions on this machine? Two busy loops pinned to one CPU,
each leading its own session as every PostgreSQL backend does: one at niceness 0, one at
niceness 10, then the same with the niced one's session autogroup given niceness 10 too
(what `chaingate worker` does to its backends, chaingate_cli/worker.py).

    python -m bench.session_share [--seconds 3] [--rounds 2]

Prints the CPU seconds each loop got and the niced one's share. Where the kernel groups
processes by session (`/proc/sys/kernel/sched_autogroup_enabled` = 1), the niceness alone
leaves the share near 50 %; with the autogroup niced it falls to about 10 % (the weights
of niceness 10 and 0: 110 / 1024). Needs `taskset` (util-linux) and the right to write a
child's /proc/<pid>/autogroup (its owner may raise it).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from chaingate_cli.worker import autogroup_nice, set_autogroup_nice


def _cpu_seconds(pid: int) -> float:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def one_round(seconds: float, group_too: bool) -> tuple[float, float]:
    """CPU seconds of the niceness-0 loop and of the niceness-10 one over `seconds`."""
    loop = f"import time\nt = time.monotonic()\nwhile time.monotonic() - t < {seconds + 1}: pass"
    command = ["taskset", "-c", str((os.cpu_count() or 1) - 1), sys.executable, "-c", loop]
    plain = subprocess.Popen(command, start_new_session=True)
    niced = subprocess.Popen(command, start_new_session=True)
    try:
        os.setpriority(os.PRIO_PROCESS, niced.pid, 10)
        if group_too:
            set_autogroup_nice(niced.pid, 10)
        time.sleep(seconds)
        return _cpu_seconds(plain.pid), _cpu_seconds(niced.pid)
    finally:
        for process in (plain, niced):
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if autogroup_nice(os.getpid()) is None:
        print("this kernel keeps no session autogroups: a niceness ranks a process against every other")
    enabled = Path("/proc/sys/kernel/sched_autogroup_enabled")
    print(f"sched_autogroup_enabled: {enabled.read_text().strip() if enabled.exists() else 'absent'};"
          f" load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'autogroup niced':<16} {'nice 0 CPU s':>12} {'nice 10 CPU s':>13} {'niced share':>11}")
    for _ in range(args.rounds):
        for group_too in (False, True):
            plain, niced = one_round(args.seconds, group_too)
            print(f"{'yes' if group_too else 'no':<16} {plain:>12.2f} {niced:>13.2f} {niced / (plain + niced):>11.0%}")


if __name__ == "__main__":
    main()
