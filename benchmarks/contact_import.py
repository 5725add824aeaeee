"""How fast does ``relsync import contacts`` take 100,000 rows into a store of 100,000 people? By hand:

    .venv/bin/python benchmarks/contact_import.py [--rows 100000] [--people 100000] [--seed 19] [--url URL | --pg]

Builds a SQLite store (or ``--url``; ``--pg``: a throwaway database on the local PostgreSQL,
postgresql+psycopg://postgres@127.0.0.1:5432, dropped afterwards) with ``--people`` seeded people at
5,000 organisations with made-up distinct names (set-based inserts, not timed), then writes a CSV export
of ``--rows`` rows: half are the store's people written differently ("SURNAME, GIVEN", upper-case
e-mails, a new phone or job title: merges), half are new people at new and existing companies (creates),
a few rows name nobody (refused). Then times, side by side:

(a) baseline: ``csv.reader`` over the file alone, the floor of any import;
(b) dry run: read (encoding and delimiter detected), clean, load the store, plan (identity resolution
    against the store and within the file), report;
(c) real run: the same plus writing the batch (set-based inserts and updates, before/after recorded).

Each import runs in a process of its own (as the CLI does), so each peak resident memory is that run's.

Goal: (b) and (c) under 60 s each and under 1 GB on this 2-core machine (the import with its matching
workers: the peak of their PSS sum, sampled four times a second; the peak RSS of each is printed too).
Prints each beside the baseline (wall and CPU seconds, the ratio), the peak resident memory, and whether
the goal is met on CPU seconds (the fair measure on a shared machine) and on the wall clock.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapping.contact_import.plan import DEFAULT_PRECEDENCE  # noqa: E402
from mapping.contact_import.reading import read_table  # noqa: E402
from mapping.contact_import.report import build_report, prepare  # noqa: E402
from mapping.identity import DEFAULT_THRESHOLDS  # noqa: E402
from mapping.store import audit  # noqa: E402
from mapping.store.contact_import import import_contacts  # noqa: E402
from mapping.store.migrate import upgrade  # noqa: E402
from mapping.store.store import Store  # noqa: E402

SYLLABLES = [
    "ka",
    "ro",
    "vel",
    "mir",
    "dan",
    "tu",
    "sel",
    "bor",
    "qui",
    "zen",
    "lo",
    "mar",
    "fen",
    "tri",
    "os",
    "gal",
    "ne",
    "pra",
    "hul",
    "vi",
    "dre",
    "sko",
    "ta",
    "lim",
    "bex",
    "cor",
    "jun",
    "wen",
    "ya",
    "pol",
]
KINDS = ["Logistics", "Analytics", "Foods", "Robotics", "Textiles", "Pharma", "Energy", "Retail", "Works", "Labs"]


def _company(n: int) -> str:
    """A distinct made-up name per n ("Rovelmir Foods"): companies in a real CRM rarely share words."""
    word = ""
    k = n + 900  # three syllables at least
    while k:
        k, r = divmod(k, len(SYLLABLES))
        word += SYLLABLES[r]
    return f"{word.capitalize()} {KINDS[n % len(KINDS)]}"


def _domain(n: int) -> str:
    return f"co{n}.example"


def _local(given: str, surname: str) -> str:
    return "".join(ch for ch in f"{given}.{surname}".lower() if ch.isascii() and (ch.isalnum() or ch == "."))


def _names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` (given, surname) pairs from Faker's locales (seeded): about as varied as a real CRM's
    names, where a tiny list of names would make every person a namesake of hundreds."""
    from faker import Faker

    fake = Faker(["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL"])
    fake.seed_instance(rng.randrange(1 << 30))
    return [(fake.first_name(), fake.last_name()) for _ in range(count)]


def build_store(url: str, people: int, rng: random.Random) -> list[tuple[str, str, str, int]]:
    """The store's organisations and people; returns (given, surname, email, org) per person."""
    import sqlalchemy as sa

    from mapping.hygiene import normalise_company_name
    from mapping.store.models import EmailAddress, Organisation, OrganisationDomain, Person, utcnow

    upgrade(url)
    store = Store(url)
    orgs = 5000
    now = utcnow()
    out = []
    with store.session() as s:
        s.execute(
            sa.insert(Organisation),
            [
                {
                    "id": n + 1,
                    "name": _company(n),
                    "normalised_name": normalise_company_name(_company(n)),
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(orgs)
            ],
        )
        s.execute(
            sa.insert(OrganisationDomain), [{"organisation_id": n + 1, "domain": _domain(n)} for n in range(orgs)]
        )
        rows = []
        emails = []
        names = _names(rng, people)
        for pid in range(1, people + 1):
            (given, surname), org = names[pid - 1], rng.randrange(orgs)
            local = _local(given, surname)
            email = f"{local}.{pid}@{_domain(org)}"
            rows.append(
                {
                    "id": pid,
                    "display_name": f"{given} {surname}",
                    "given_name": given,
                    "surname": surname,
                    "organisation_id": org + 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            emails.append({"person_id": pid, "address": email, "original": email, "is_primary": True})
            out.append((given, surname, email, org))
        s.execute(sa.insert(Person), rows)
        s.execute(sa.insert(EmailAddress), emails)
        if s.get_bind().dialect.name == "postgresql":  # explicit ids above: move the sequences past them
            for table in ("organisations", "people"):
                s.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
    store.dispose()
    return out


def write_export(path: Path, rows: int, known: list[tuple[str, str, str, int]], rng: random.Random) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Name", "E-mail", "Company", "Phone", "Job Title", "City", "Lead Source", "Legacy Field"])
        picks = rng.sample(range(len(known)), min(rows // 2, len(known)))
        names = _names(rng, rows)
        for n in range(rows):
            if n % 1000 == 999:
                w.writerow(["", "", "Nobody Ltd", "", "", "", "", "x"])
            elif n % 2 == 0 and picks:
                given, surname, email, org = known[picks.pop()]
                w.writerow(
                    [
                        f"{surname.upper()}, {given.upper()}",
                        email.upper(),
                        _company(org),
                        f"030 {rng.randrange(10**6, 10**7)}",
                        rng.choice(["", "Buyer", "CTO"]),
                        "",
                        "Fair",
                        "x",
                    ]
                )
            else:
                given, surname = names[n]
                org = 5000 + n if n % 3 else rng.randrange(5000)
                local = _local(given, surname)
                w.writerow(
                    [f"{given} {surname}", f"{local}.n{n}@{_domain(org)}", _company(org), "", "", "Berlin", "Web", "x"]
                )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _workers_rss_mb() -> float:
    """The largest peak of the import's own worker processes (identity matching forks two for a big
    file; they share the import's memory until they write to it, so this overstates what they add)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def timed_import(url: str, path: Path, dry: bool) -> tuple[float, float, dict[str, object]]:
    """Wall and CPU seconds of one import (read, clean, plan and, unless ``dry``, write), and its report."""
    wall, cpu = time.perf_counter(), time.process_time()
    table = read_table(path)
    prepared = prepare(table, "generic", {}, "DE")
    table.rows = []  # as the CLI does: the cleaned rows are all that is needed from here
    store = Store(url)
    try:
        with store.session() as s:
            plan, batch, earlier, was_dry = import_contacts(
                s,
                prepared.rows,
                thresholds=DEFAULT_THRESHOLDS,
                precedence=DEFAULT_PRECEDENCE,
                file_name=path.name,
                file_hash="bench",
                profile="generic",
                dry_run=dry,
            )
            if was_dry:
                s.rollback()
    finally:
        store.dispose()
    report = build_report(path.name, "generic", table, prepared, plan, dry_run=was_dry, batch=batch, earlier=earlier)
    return time.perf_counter() - wall, time.process_time() - cpu, report


def _measured(url: str, path: Path, dry: bool, conn: Any) -> None:
    """One import in a child process of its own: its times, its own peak memory and its counts."""
    wall, cpu, report = timed_import(url, path, dry)
    counts = {k: v for k, v in report.items() if isinstance(v, int)}
    conn.send((wall, cpu, _rss_mb(), {**counts, "_workers_rss": _workers_rss_mb()}))
    conn.close()


def _pss_mb(pid: int) -> float:
    """A process's proportional set size: its private pages plus its share of pages it shares (a forked
    worker's pages still shared with the import count half to each), so the sum over processes is the
    memory they take from the machine together."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # gone meanwhile
        pass
    return 0.0


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                    # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
                    if int(f.read().rpartition(")")[2].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return found


class _PeakPss(threading.Thread):
    """Samples the PSS of a process and its children (the matching workers) four times a second; ``peak``
    is the largest sum seen: the import's memory, workers included, counted once."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.25):
            self.peak = max(self.peak, sum(_pss_mb(p) for p in [self.pid, *_children_of(self.pid)]))


def _run(url: str, path: Path, dry: bool) -> tuple[float, float, float, dict[str, Any]]:
    """:func:`_measured` in a forked child, so the peak resident memory is that run's alone (the CLI
    imports one file per process); ``_tree_pss`` in the counts is the peak memory of the child and its
    workers together (:class:`_PeakPss`)."""
    ctx = multiprocessing.get_context("fork")
    here, there = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_measured, args=(url, path, dry, there))
    child.start()
    there.close()
    assert child.pid is not None
    sampler = _PeakPss(child.pid)
    sampler.start()
    try:
        result: tuple[float, float, float, dict[str, Any]] = here.recv()
    except EOFError:
        child.join()
        raise SystemExit(f"the {'dry' if dry else 'real'} run failed (exit code {child.exitcode}): see above") from None
    finally:
        sampler.done.set()
        sampler.join()
    child.join()
    result[3]["_tree_pss"] = sampler.peak
    return result


def _setup(url: str, people: int, rows: int, seed: int, path: Path) -> None:
    rng = random.Random(seed)
    known = build_store(url, people, rng)
    write_export(path, rows, known, rng)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--url", default=None, help="a store URL (default: a new SQLite file)")
    parser.add_argument("--pg", action="store_true", help="a throwaway database on the local PostgreSQL")
    args = parser.parse_args()
    if args.pg:
        import secrets

        import sqlalchemy as sa

        admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
        name = f"relsync_bench_{secrets.token_hex(4)}"
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            args.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
            _main(args)
        finally:
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    else:
        _main(args)


def _main(args: argparse.Namespace) -> None:
    # A real import writes an audit entry of its batch, chained with the configured key (forked children
    # inherit it), as `relsync import contacts` does after loading its configuration.
    audit.use_key(b"relsync benchmark audit key (not a secret)")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        path = Path(tmp) / "export.csv"
        t = time.perf_counter()
        # The store and the file are made in a child process, so the peak memory below is the import's.
        child = multiprocessing.get_context("fork").Process(
            target=_setup, args=(url, args.people, args.rows, args.seed, path)
        )
        child.start()
        child.join()
        print(
            f"setup: {args.people:,} people in the store, {args.rows:,} rows in the file "
            f"({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s"
        )
        t, c = time.perf_counter(), time.process_time()
        with path.open(newline="", encoding="utf-8") as f:
            baseline_rows = sum(1 for _ in csv.reader(f))
        baseline, baseline_cpu = time.perf_counter() - t, time.process_time() - c
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: CPU seconds are the fair measure")
        print(f"(a) baseline csv.reader: {baseline:7.2f} s wall {baseline_cpu:7.2f} s CPU  ({baseline_rows:,} rows)")
        dry, dry_cpu, dry_rss, report = _run(url, path, dry=True)
        print(
            f"(b) dry run:             {dry:7.2f} s wall {dry_cpu:7.2f} s CPU  x{dry_cpu / baseline_cpu:,.0f} "
            f"of baseline CPU  peak RSS {dry_rss:,.0f} MB (a worker's {report['_workers_rss']:,.0f} MB), "
            f"with its workers {report['_tree_pss']:,.0f} MB PSS"
        )
        dry_tree = report["_tree_pss"]
        real, real_cpu, real_rss, report = _run(url, path, dry=False)
        print(
            f"(c) real run:            {real:7.2f} s wall {real_cpu:7.2f} s CPU  x{real_cpu / baseline_cpu:,.0f} "
            f"of baseline CPU  peak RSS {real_rss:,.0f} MB (a worker's {report['_workers_rss']:,.0f} MB), "
            f"with its workers {report['_tree_pss']:,.0f} MB PSS"
        )
        real_tree = report["_tree_pss"]
        keys = (
            "rows_read",
            "rows_refused",
            "people_to_create",
            "rows_merged_into_existing",
            "people_changed",
            "rows_merged_within_file",
            "people_to_review",
            "organisations_to_create",
            "organisations_merged",
        )
        print("counts: " + ", ".join(f"{k} {report[k]:,}" for k in keys))
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
        # The memory goal counts the import with its matching workers: their peak PSS sum (a worker's
        # RSS counts the pages it still shares with the import, so adding RSS would count those twice).
        rss = max(dry_rss, real_rss, dry_tree, real_tree)
        for what, seconds in (("CPU seconds", max(dry_cpu, real_cpu)), ("wall clock", max(dry, real))):
            met = seconds < 60 and rss < 1024
            print(f"goal: (b) and (c) < 60 s, < 1,024 MB: {'met' if met else 'MISSED'} on {what} ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
