#!/usr/bin/env python3
"""Where ingest's time goes, per phase of `cargo bench --bench bench -- --only ingest`.

Runs the (already built) bench binary given as argv[1] with the rest of argv as its options,
and for each phase (a table row it prints) reports: wall time, CPU seconds of the bench
process (server and load generator share it), CPU seconds of the bench database's PostgreSQL backends,
commits and WAL (records, bytes, fdatasyncs) from pg_stat_wal/pg_stat_database, and what
the bench database's backends were doing (pg_stat_activity sampled every 5 ms: running,
or the wait event: ClientRead = waiting for us, WALWrite/WALSync = the commit's flush,
lock waits, ...). PostgreSQL is read with psql at PGURL (default the local trust one).

  python3 scripts/profile-ingest.py target/release/deps/bench-XXXX --only ingest \\
      --database-url postgres://postgres@127.0.0.1:5432/postgres --concurrency 8
"""

import collections
import os
import subprocess
import sys
import threading
import time

PGURL = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432/postgres")
TICK = os.sysconf("SC_CLK_TCK")


def psql(sql):
    out = subprocess.run(
        ["psql", PGURL, "-AtqF", "|", "-c", sql], capture_output=True, text=True
    )
    return [line.split("|") for line in out.stdout.splitlines() if line]


def cpu_of(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / TICK


def postgres_pids():
    """The bench database's backends (other databases' users of the server left out)."""
    rows = psql("SELECT pid FROM pg_stat_activity WHERE datname LIKE 'pfo_bench_%'")
    return [int(r[0]) for r in rows]


def counters():
    wal = psql("SELECT wal_records, wal_bytes, wal_write, wal_sync FROM pg_stat_wal")[0]
    commits = psql(
        "SELECT coalesce(sum(xact_commit), 0) FROM pg_stat_database WHERE datname LIKE 'pfo_bench_%'"
    )[0][0]
    return [int(x) for x in wal] + [int(commits)]


phase = ["setup"]
samples = collections.defaultdict(collections.Counter)
done = threading.Event()


def sampler():
    # One long-lived psql reading a query per line keeps the sampling cheap.
    query = (
        "SELECT coalesce(wait_event_type || ':' || wait_event, 'running:' || state) "
        "FROM pg_stat_activity WHERE datname LIKE 'pfo_bench_%' AND backend_type = 'client backend' "
        "AND state <> 'idle' AND pid <> pg_backend_pid();\n"
    )
    proc = subprocess.Popen(
        ["psql", PGURL, "-Atq"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    reader = threading.Thread(target=lambda: [samples[phase[0]].update([l.strip()]) for l in proc.stdout])
    reader.daemon = True
    reader.start()
    while not done.is_set():
        samples[phase[0]].update(["_ticks"])
        proc.stdin.write(query)
        proc.stdin.flush()
        time.sleep(0.005)
    proc.stdin.close()


def main():
    bench = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
    threading.Thread(target=sampler, daemon=True).start()
    rows = []
    mark = (time.time(), cpu_of([bench.pid]), cpu_of(postgres_pids()), counters())
    pids = []
    for line in bench.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        label = line[:34].strip()
        if label.startswith("path") and not pids:
            pids = postgres_pids()
            mark = (time.time(), cpu_of([bench.pid]), cpu_of(pids), counters())
        if not (label.startswith("POST ") or label.startswith("baseline") or label.startswith("one statement")):
            continue
        now = (time.time(), cpu_of([bench.pid]), cpu_of(pids), counters())
        rows.append((label, mark, now, samples.pop(phase[0], collections.Counter())))
        phase[0] = f"after {label}"
        # The next phase starts now; counters read here are its starting point.
        # Backends of the bench database (its pool opens them in the first phase).
        pids = postgres_pids()
        mark = (now[0], now[1], cpu_of(pids), now[3])
    bench.wait()
    done.set()
    print("\n## where the time went, per phase")
    print(f"{'phase':<34} {'wall s':>6} {'bench cpu':>9} {'pg cpu':>7} {'commits':>8} {'WAL recs':>9} {'WAL MB':>7} {'fsyncs':>7}  backends (share of samples)")
    for label, (t0, b0, p0, c0), (t1, b1, p1, c1), waits in rows:
        ticks = max(waits.pop("_ticks", 1), 1)
        busy = ", ".join(f"{k} {v / ticks:.2f}" for k, v in waits.most_common(6))
        d = [b - a for a, b in zip(c0, c1)]
        print(
            f"{label:<34} {t1 - t0:>6.1f} {b1 - b0:>9.2f} {p1 - p0:>7.2f} {d[4]:>8} {d[0]:>9} {d[1] / 1e6:>7.1f} {d[3]:>7}  {busy}"
        )


if __name__ == "__main__":
    main()
