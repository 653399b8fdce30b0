"""The baselines' scheduler process for bench.memory: runs one design for a while, then exits.

    python -m bench.memory_child seed|apscheduler sqlite|mongo <folder> <mongo url or -> <seconds>

(Herald's process is `python bot.py worker` itself.) The parent reads this process's VmHWM from
/proc/<pid>/status; the process also prints its own ru_maxrss at the end."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

from bench.baselines import ApsBaseline, Recorder, SeedScheduler
from bench.common import Database


def main(argv: list[str]) -> int:
    design, kind, folder, url, seconds = argv[1], argv[2], Path(argv[3]), argv[4], float(argv[5])
    db = Database(kind, folder, None if url == "-" else url)
    recorder = Recorder()
    print("ready", flush=True)
    if design == "seed":
        seed = SeedScheduler(db, recorder, interval=1.0)
        seed.start()
        time.sleep(seconds)
        seed.stop()
    else:
        aps = ApsBaseline(db, recorder, paused=False)
        aps.start()
        time.sleep(seconds)
        aps.stop()
    print(f"ru_maxrss_kib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
