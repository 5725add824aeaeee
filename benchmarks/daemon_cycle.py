"""One no-change cycle of 1,000 mailboxes with one and with two ``relsync daemon`` processes. Run by hand:

    .venv/bin/python benchmarks/daemon_cycle.py [--mailboxes 1000] [--workers 4] [--emails 40]

A seeded fake Exchange serves the mailboxes from this process (a few items each: the cycle, not the
items, is measured); the store is a throwaway PostgreSQL database (postgresql+psycopg://postgres@
127.0.0.1:5432/relsync_bench_<random>). The daemons run with a near-zero interval, so each is busy all
the time and a "cycle" is how long it takes until every mailbox has been synced once more:

1. first cycle (full sync) with two daemons, then one warm-up cycle;
2. two daemons: one no-change cycle (wall time, requests per mailbox), then the end-to-end lag of new
   e-mails (created in the fake at random moments; lag = until the interaction is in the store);
3. one daemon (the other stopped with SIGTERM): the same;
4. raw baseline in this process: exchangelib alone, ``SyncFolderItems`` with the saved states of every
   mailbox folder (no store, no scheduling), on as many threads as one daemon has workers.

Requests per mailbox: the floor is one SyncFolderItems per folder (4). A daemon keeps each mailbox's
Account (and its folders), so a warm no-change cycle should be at the floor; a mailbox synced by a
worker that has not synced it before costs its GetFolder lookups once.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from exchangelib import BASIC, IMPERSONATION, Account, Build, Configuration, Credentials, FailFast, Version  # noqa: E402
from exchangelib import UTC as EWS_UTC  # noqa: E402
from exchangelib.services import SyncFolderItems  # noqa: E402

from connector.ews import FOLDER_ATTRIBUTES  # noqa: E402
from connector.fake.company.generator import Scale, build_company  # noqa: E402
from connector.fake.ews.server import FakeExchange  # noqa: E402
from connector.fake.model import ItemSpec, Mailbox  # noqa: E402
from mapping.store.migrate import upgrade  # noqa: E402
from scheduler.cli import write_fake_config  # noqa: E402

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FOLDERS = ("contacts", "inbox", "sentitems", "calendar")
SCALE = Scale(contacts=2, inbox=2, sentitems=1, calendar=1, tasks=0)
SENDER = Mailbox("Dana Dunn", "dana@fabrikam.example")


def write_config(path: Path, ex: FakeExchange, domain: str, url: str, worker: str, workers: int) -> Path:
    write_fake_config(path, ex.url, ex.username, ex.password, list(ex.mailboxes), domain)
    text = path.read_text(encoding="utf-8").replace('level = "INFO"', 'level = "WARNING"')
    text = text.replace(f'url = "sqlite:///{path.stem}.db"', f'url = "{url}"')
    text = text.replace("max_connections = 4", f"max_connections = {workers}")
    text += f"""
[sync]
interval_minutes = 0.001

[classification]
write_back = false

[daemon]
worker_id = "{worker}"
workers = {workers}
jitter_seconds = 0.5
lease_seconds = 120
classify_interval_minutes = 600
metrics_listen = "127.0.0.1:0"
"""
    path.write_text(text, encoding="utf-8")
    return path


class Bench:
    def __init__(self, n: int, workers: int, directory: Path, url: str, latency_ms: float = 0.0) -> None:
        self.n = n
        self.workers = workers
        self.dir = directory
        self.url = url
        self.company = build_company(seed=11, mailboxes=n, scale=SCALE)
        self.ex = FakeExchange(self.company, latency_ms=latency_ms).start()
        self.engine = sa.create_engine(url)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.profile_dir: Path | None = None

    def start(self, worker: str) -> None:
        config = write_config(self.dir / f"{worker}.toml", self.ex, self.company.domain, self.url, worker, self.workers)
        log = (self.dir / f"{worker}.log").open("wb")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        if self.profile_dir is not None:
            self.profile_dir.mkdir(parents=True, exist_ok=True)
            env["RELSYNC_DAEMON_PROFILE"] = str(self.profile_dir.resolve() / f"{worker}.pstats")
        self.procs[worker] = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "--config", str(config), "daemon"],
            cwd=self.dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self, worker: str) -> int:
        proc = self.procs.pop(worker)
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=60)

    def close(self) -> None:
        for proc in self.procs.values():
            proc.kill()
        self.ex.stop()
        self.engine.dispose()

    def syncs(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for per in self.ex.overlaps.to_json()["clients"].values():
            for mailbox, count in per.items():
                total[mailbox] = total.get(mailbox, 0) + count
        return total

    def cpu_seconds(self) -> float:
        """CPU (user + system) the running daemon processes have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for proc in self.procs.values():
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total

    def requests(self) -> int:
        return sum(self.ex.stats.to_json()["operations"].values())

    def wait_cycle(self, what: str, timeout: float = 1800) -> float:
        """Seconds until every mailbox has had one more sync of all its folders."""
        base = self.syncs()
        start = time.monotonic()
        while True:
            now = self.syncs()
            if len(now) == self.n and all(now[m] >= base.get(m, 0) + len(FOLDERS) for m in now):
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise SystemExit(f"{what}: not done after {timeout:.0f} s")
            for worker, proc in self.procs.items():
                if proc.poll() is not None:
                    tail = (self.dir / f"{worker}.log").read_text(errors="replace").splitlines()[-20:]
                    raise SystemExit(f"daemon {worker} died (exit {proc.returncode}):\n" + "\n".join(tail))
            time.sleep(0.05)

    def lag(self, emails: int, rng: random.Random) -> list[float]:
        """Seconds from a new e-mail landing in the fake to its interaction being in the store."""
        pending: dict[str, float] = {}
        lags: list[float] = []
        addresses = list(self.ex.mailboxes)
        created = 0
        deadline = time.monotonic() + 900
        while (created < emails or pending) and time.monotonic() < deadline:
            if created < emails and rng.random() < 0.3:
                created += 1
                mid = f"<lag-{secrets.token_hex(6)}@fabrikam.example>"
                to = rng.choice(addresses)
                when = datetime.now(UTC) - timedelta(minutes=1)
                spec = ItemSpec(
                    "Message",
                    {
                        "Subject": f"Lag probe {created}",
                        "Body": "probe",
                        "DateTimeReceived": when,
                        "DateTimeSent": when,
                        "Sender": SENDER,
                        "From": SENDER,
                        "ToRecipients": (Mailbox("Staff", to, mailbox_type="Mailbox"),),
                        "InternetMessageId": mid,
                        "IsRead": False,
                    },
                )
                self.ex.mailboxes[to].create("inbox", spec)
                pending[mid] = time.monotonic()
            if pending:
                with self.engine.connect() as conn:
                    found: set[str] = set(
                        conn.scalars(
                            sa.select(sa.column("internet_message_id"))
                            .select_from(sa.table("interactions", sa.column("internet_message_id")))
                            .where(sa.column("internet_message_id").in_(list(pending)))
                        )
                    )
                for mid in found:
                    lags.append(time.monotonic() - pending.pop(mid))
            time.sleep(0.1)
        if pending:
            raise SystemExit(f"{len(pending)} e-mails never reached the store")
        return lags

    def raw_cycle(self) -> tuple[float, float]:
        """exchangelib alone: SyncFolderItems with every folder's saved state; (seconds, requests/mailbox)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT m.address, s.folder, s.state FROM sync_states s "
                    "JOIN staff_mailboxes m ON m.id = s.mailbox_id"
                )
            ).all()
        states: dict[str, dict[str, str]] = {}
        for address, folder, state in rows:
            states.setdefault(address, {})[folder] = state
        config = Configuration(
            service_endpoint=self.ex.url,
            credentials=Credentials(self.ex.username, self.ex.password),
            auth_type=BASIC,
            version=Version(build=Build(15, 1, 2507, 6)),
            retry_policy=FailFast(),
            max_connections=self.workers,
        )
        accounts = {
            a: Account(a, config=config, access_type=IMPERSONATION, default_timezone=EWS_UTC, autodiscover=False)
            for a in states
        }

        def one(address: str) -> None:
            acc = accounts[address]
            for folder in FOLDERS:
                f = getattr(acc, FOLDER_ATTRIBUTES[folder])
                svc = SyncFolderItems(account=acc)
                list(
                    svc.call(
                        folder=f,
                        shape="IdOnly",
                        additional_fields=set(),
                        sync_state=states[address].get(folder),
                        ignore=None,
                        max_changes_returned=512,
                        sync_scope="NormalItems",
                    )
                )

        def run() -> float:
            start = time.monotonic()
            with ThreadPoolExecutor(self.workers) as pool:
                list(pool.map(one, list(states)))
            return time.monotonic() - start

        run()  # warm: folder lookups cached on the accounts, like a daemon's
        before = self.requests()
        seconds = run()
        return seconds, (self.requests() - before) / len(states)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat (all cores)."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measured(bench: Bench, label: str, emails: int, rng: random.Random) -> dict[str, Any]:
    before, cpu, machine = bench.requests(), bench.cpu_seconds(), machine_cpu()
    seconds = bench.wait_cycle(label)
    per_mailbox = (bench.requests() - before) / bench.n
    cpu_ms = (bench.cpu_seconds() - cpu) * 1000 / bench.n
    busy, total = (after - first for after, first in zip(machine_cpu(), machine, strict=True))
    lags = bench.lag(emails, rng)
    return {
        "label": label,
        "seconds": seconds,
        "requests": per_mailbox,
        "cpu_ms": cpu_ms,
        "busy": 100 * busy / total if total else 0.0,
        "p50": statistics.median(lags),
        "p95": pct(lags, 0.95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mailboxes", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4, help="sync threads per daemon")
    parser.add_argument("--emails", type=int, default=40, help="new e-mails for the lag measurement")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=30.0,
        help="added to every fake answer, as a real Exchange's tens of ms (0: the fake's ~1 ms, CPU-bound)",
    )
    parser.add_argument(
        "--profile-dir",
        type=Path,
        help="write each daemon's cProfile of its sync jobs here (RELSYNC_DAEMON_PROFILE), for pstats",
    )
    args = parser.parse_args()
    # Stopped by hand: still stop the daemons and drop the database (the finally blocks below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rng = random.Random(7)
    name = f"relsync_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="relsync-daemon-bench-") as tmp:
        upgrade(url)
        bench = Bench(args.mailboxes, args.workers, Path(tmp), url, args.latency_ms)
        bench.profile_dir = args.profile_dir
        try:
            t = time.monotonic()
            bench.start("worker-a")
            bench.start("worker-b")
            first = bench.wait_cycle("first cycle")
            print(
                f"first (full) cycle, 2 daemons: {first:.1f} s "
                f"(including process start; {time.monotonic() - t:.1f} s since launch)",
                flush=True,
            )
            for _ in range(1):
                bench.wait_cycle("warm-up")
            results.append(measured(bench, "2 daemons", args.emails, rng))
            print(f"worker-b stopped with SIGTERM: exit {bench.stop('worker-b')}", flush=True)
            for _ in range(1):
                bench.wait_cycle("warm-up (1 daemon)")
            results.append(measured(bench, "1 daemon", args.emails, rng))
            bench.stop("worker-a")
            raw_seconds, raw_requests = bench.raw_cycle()
            overlaps = len(bench.ex.overlaps.to_json()["overlaps"])
            with bench.engine.connect() as conn:
                # A benchmark of syncs that fail measures nothing: say so.
                failing = conn.execute(
                    sa.text("SELECT count(*) FROM staff_mailboxes WHERE needs_attention OR last_success_at IS NULL")
                ).scalar_one()
        finally:
            bench.close()
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(
        f"\n{args.mailboxes} mailboxes x {len(FOLDERS)} folders, {args.workers} sync threads per daemon, "
        f"fake Exchange in this process answering after {args.latency_ms:g} ms, PostgreSQL store, "
        f"{os.cpu_count()} CPU cores"
    )
    head = (
        f"{'':<22}{'cycle s':>9}{'x raw':>8}{'req/mailbox':>13}{'CPU ms/mailbox':>16}{'lag p50 s':>11}{'lag p95 s':>11}"
        f"{'machine busy':>14}"
    )
    print(head)
    print("-" * len(head))
    print(f"{'raw exchangelib':<22}{raw_seconds:>9.1f}{1.0:>8.2f}{raw_requests:>13.2f}{'-':>16}{'-':>11}{'-':>11}")
    for r in results:
        print(
            f"{r['label']:<22}{r['seconds']:>9.1f}{r['seconds'] / raw_seconds:>8.2f}{r['requests']:>13.2f}"
            f"{r['cpu_ms']:>16.1f}{r['p50']:>11.1f}{r['p95']:>11.1f}{r['busy']:>13.0f}%"
        )
    print(
        "CPU ms/mailbox: the daemon processes' CPU over the cycle per mailbox; machine busy: all cores, every "
        "process (fake Exchange, PostgreSQL, daemons, anything else running)"
    )
    print(
        f"floor: {len(FOLDERS)} requests per mailbox (one SyncFolderItems per folder); "
        f"overlapping syncs of one mailbox by two workers: {overlaps}; mailboxes failing at the end: {failing}"
    )


if __name__ == "__main__":
    main()
