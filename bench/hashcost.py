"""The password hash's own cost under a bench settings module, measured in-process.

    DJANGO_SETTINGS_MODULE=bench.settings_mfa python -m bench.hashcost [--repeat 15]

Prints JSON: the hasher's name and the CPU and wall milliseconds of one ``check_password`` against a
stored hash (what a login pays once, in ``ModelBackend.authenticate``). The bench subtracts the CPU
figure once per complete flow to give "CPU per flow excluding the password hash". CPU time is the
process's (``time.process_time``), so a hasher that uses several threads (Argon2 with parallelism > 1)
is counted in full, as the worker's CPU seconds count it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_mfa")


def measure(repeat: int) -> dict:
    import django

    django.setup()
    from django.contrib.auth.hashers import check_password, get_hasher, make_password

    password = "bench password for the hasher cost"
    encoded = make_password(password)
    assert check_password(password, encoded)  # warm-up (imports, the C library's first call)
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        ok = check_password(password, encoded)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
        assert ok
    hasher = get_hasher()
    return {
        "hasher": f"{type(hasher).__module__}.{type(hasher).__name__}",
        "algorithm": hasher.algorithm,
        "repeat": repeat,
        "cpu_ms": statistics.median(cpu),
        "wall_ms": statistics.median(wall),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    print(json.dumps(measure(parser.parse_args().repeat)))


if __name__ == "__main__":
    main()
