"""A scripted stand-in for the shim's `stream` command, run with python3 on a simulated device.

It speaks the stream's line protocol with a real spool file in the session's
working folder: a hello, a replay of every spooled sample after --after, then
new samples (appended to the spool) and heartbeats. Its switches make the
cases the collector must survive:

--total N           stop making new samples after seq N, then only send heartbeats
--skew S            the device clock runs S seconds ahead of the real one
--garbage-every K   before every K-th new sample, print a line that is not telemetry
--duplicate-every K after every K-th new sample, print it once more
--cut-after N       on the first run only, print half of the line after N new samples and exit
--interval S        seconds between new samples
"""

import argparse
import json
import os
import sys
import time

STREAM = "feedc0de00000001"
SPOOL = "emitter-spool.jsonl"
CUT_MARKER = "emitter-cut-done"


def sample(seq, skew):
    return {
        "type": "sample", "stream": STREAM, "seq": seq, "ts": time.time() + skew, "interval_s": 1.0,
        "requests": seq % 5, "errors": 0, "latency_ms_p50": 1.0, "latency_ms_p95": 2.0, "latency_ms_p99": 3.0,
        "cpu_percent": 10.0, "mem_used_mb": 100.0, "mem_total_mb": 1000.0, "temp_c": 40.0,
        "disk_free_mb": 500.0, "disk_used_percent": 50.0, "release": None, "serving": True,
        "drift_psi": None, "drift_input_psi": None,
    }


def emit(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--after", type=int, default=0)
    parser.add_argument("--stream", default=None)
    parser.add_argument("--total", type=int, default=30)
    parser.add_argument("--skew", type=float, default=0.0)
    parser.add_argument("--garbage-every", type=int, default=0)
    parser.add_argument("--duplicate-every", type=int, default=0)
    parser.add_argument("--cut-after", type=int, default=0)
    parser.add_argument("--interval", type=float, default=0.02)
    options = parser.parse_args()

    spooled = []
    if os.path.exists(SPOOL):
        with open(SPOOL) as spool:
            spooled = [line.rstrip("\n") for line in spool if line.strip()]
    last = json.loads(spooled[-1])["seq"] if spooled else 0
    after = options.after if options.stream == STREAM else 0

    emit(json.dumps({"type": "hello", "stream": STREAM, "next_seq": last + 1, "oldest_seq": 1 if spooled else None,
                     "dropped_total": 0, "device_ts": time.time() + options.skew, "shim": "emitter"}))
    for line in spooled:
        if json.loads(line)["seq"] > after:
            emit(line)

    cut = options.cut_after and not os.path.exists(CUT_MARKER)
    made = 0
    for seq in range(last + 1, options.total + 1):
        time.sleep(options.interval)
        if options.garbage_every and seq % options.garbage_every == 0:
            emit("Traceback (most recent call last): not telemetry " + str(seq))
        line = json.dumps(sample(seq, options.skew))
        with open(SPOOL, "a") as spool:
            spool.write(line + "\n")
        made += 1
        if cut and made > options.cut_after:
            open(CUT_MARKER, "w").close()
            # The spool has the whole line; the channel gets only half of it.
            sys.stdout.write(line[: len(line) // 2])
            sys.stdout.flush()
            os._exit(1)
        emit(line)
        if options.duplicate_every and seq % options.duplicate_every == 0:
            emit(line)

    while True:
        time.sleep(0.5)
        emit(json.dumps({"type": "heartbeat", "device_ts": time.time() + options.skew}))


main()
