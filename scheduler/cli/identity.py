"""``relsync duplicates ...`` and ``relsync match pairs``: reviewing and tuning identity resolution."""

from __future__ import annotations

import dataclasses
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from mapping.identity import Thresholds
from mapping.identity.calibration_file import CalibrationSet
from mapping.store.models import utcnow
from mapping.store.review import ReviewError, list_pairs, merge_pair, reject_pair, show_pair, unmerge_pair
from mapping.store.store import Store
from scheduler.cli.group import Context, cli, pass_ctx, terminal_console
from scheduler.cli.params import RowId

PAIR_ID = RowId("relsync duplicates list")


def _actor() -> str:
    try:
        return f"by {getpass.getuser()} (cli)"
    except OSError:
        return "by cli"


def _store(ctx: Context) -> Store:
    return Store(ctx.config().config.store.url)


def _decide(ctx: Context, decision: Callable[[Store, int, str], str], pair_id: int) -> None:
    store = _store(ctx)
    try:
        click.echo(decision(store, pair_id, _actor()))
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.dispose()


@cli.group()
def duplicates() -> None:
    """Review possible duplicate people and organisations."""


@duplicates.command("scan")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def duplicates_scan(ctx: Context, as_json: bool) -> None:
    """A full pass over the store: merge sure duplicates, queue doubtful ones for review."""
    from scheduler.jobs import resolve_identities

    store = _store(ctx)
    try:
        result = resolve_identities(store, ctx.config())
    finally:
        store.dispose()
    out = {"merged": result.merged, "queued": result.queued, "already_decided": result.already_decided}
    click.echo(
        json.dumps(out)
        if as_json
        else f"merged {result.merged}, queued {result.queued} for review, {result.already_decided} already decided"
    )


@duplicates.command("list")
@click.option(
    "--status", type=click.Choice(["pending", "merged", "rejected", "all"]), default="pending", show_default=True
)
@click.option("--kind", type=click.Choice(["person", "organization"]))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def duplicates_list(ctx: Context, status: str, kind: str | None, as_json: bool) -> None:
    """The review queue (or decided pairs), best score first."""
    store = _store(ctx)
    try:
        rows = list_pairs(store, status, kind)
    finally:
        store.dispose()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"relsync: duplicates ({status})")
    for column in ("id", "kind", "score", "a", "b", "status"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]), r["kind"], f"{r['score']:.3f}", str(r["a"].get("name")), str(r["b"].get("name")), r["status"]
        )
    terminal_console().print(table)


@duplicates.command("show")
@click.argument("pair_id", type=PAIR_ID)
@pass_ctx
def duplicates_show(ctx: Context, pair_id: int) -> None:
    """Both records side by side, with the evidence for and against."""
    store = _store(ctx)
    try:
        row = show_pair(store, pair_id)
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.dispose()
    click.echo(json.dumps(row, indent=2))


@duplicates.command("merge")
@click.argument("pair_id", type=PAIR_ID)
@pass_ctx
def duplicates_merge(ctx: Context, pair_id: int) -> None:
    """Merge a pair (the survivor is chosen by rule; `unmerge` undoes it)."""
    _decide(ctx, merge_pair, pair_id)


@duplicates.command("reject")
@click.argument("pair_id", type=PAIR_ID)
@pass_ctx
def duplicates_reject(ctx: Context, pair_id: int) -> None:
    """Not the same: the pair is never proposed again."""
    _decide(ctx, reject_pair, pair_id)


@duplicates.command("unmerge")
@click.argument("pair_id", type=PAIR_ID)
@pass_ctx
def duplicates_unmerge(ctx: Context, pair_id: int) -> None:
    """Undo the merge of a pair exactly; the pair then counts as rejected."""
    _decide(ctx, unmerge_pair, pair_id)


@cli.group()
def match() -> None:
    """Tune identity resolution on your own data."""


@match.command("pairs")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per pair, then one with the metrics.")
@click.option("--expert-weights", is_flag=True, help="Ignore identity.calibration_file: the built-in weights.")
@pass_ctx
def match_pairs(ctx: Context, file: Path, as_json: bool, expert_weights: bool) -> None:
    """Score pairs from a CSV (kind, a, b, optional label): each decision, and precision/recall/F1,
    with the weights the identity pass uses (the calibration file's, when the config names one)."""
    from mapping.identity import DEFAULT_THRESHOLDS
    from mapping.identity.pairs import evaluate, parse_pairs, score_pairs
    from scheduler.calibration import configured_calibration
    from scheduler.jobs import thresholds

    # Scoring a file needs neither Exchange nor the store: the config's thresholds when there is one.
    # Scoring labelled pairs reads no store: it works before the first sync.
    limits = thresholds(ctx.config(store=False)) if ctx.config_path.exists() else DEFAULT_THRESHOLDS
    calibrations = (
        None if expert_weights or not ctx.config_path.exists() else configured_calibration(ctx.config(store=False))
    )
    pairs, problems = parse_pairs(file.read_text(encoding="utf-8"))
    scored = score_pairs(pairs, limits, calibrations)
    for s in scored:
        row = {
            "line": s.pair.line,
            "kind": s.pair.kind,
            "decision": s.score.decision,
            "score": round(s.score.score, 3),
            "label": s.pair.label,
        }
        if as_json:
            click.echo(json.dumps(row))
        else:
            label = "" if s.pair.label is None else f" label={int(s.pair.label)}"
            click.echo(f"line {s.pair.line}: {s.score.decision} {s.score.score:.3f}{label}")
    metrics = evaluate(scored)
    if metrics.pairs:
        summary = {
            "pairs": metrics.pairs,
            "precision": round(metrics.precision, 4),
            "recall": round(metrics.recall, 4),
            "f1": round(metrics.f1, 4),
            "reviewed": metrics.reviewed,
            "weights": "calibrated" if calibrations else "expert",
        }
        click.echo(
            json.dumps(summary)
            if as_json
            else f"{metrics.pairs} labelled pairs: precision {summary['precision']}, recall {summary['recall']}, "
            f"F1 {summary['f1']} ({metrics.reviewed} sent to review; {summary['weights']} weights)"
        )
    if problems is not None:
        for line, message in problems.problems:
            click.echo(f"relsync: {file}: line {line}: {message}", err=True)
        sys.exit(1)


@match.command("calibrate")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the weights (default: the config's identity.calibration_file).",
)
@click.option("--dry-run", is_flag=True, help="Fit and show what would change; write nothing.")
@click.option(
    "--pairs",
    "pairs_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A labelled CSV (as `match pairs` reads): precision, recall and F1 with both weights.",
)
@click.option("--show-weights", is_flag=True, help="Also print every fitted weight next to the expert one.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def match_calibrate(
    ctx: Context, output: Path | None, dry_run: bool, pairs_file: Path | None, show_weights: bool, as_json: bool
) -> None:
    """Fit the matching weights on the store's own people and organisations (unsupervised EM), show
    what they would merge and queue compared with the expert weights, and save them for every later
    identity pass. The store is not changed: run `relsync duplicates scan` to apply them now."""
    from mapping.identity.calibration_file import save_calibration_set
    from mapping.store import services
    from scheduler.jobs import thresholds

    loaded = ctx.config()
    configured = loaded.config.identity.calibration_file
    target = output or configured
    if target is None and not dry_run:
        raise click.UsageError("set identity.calibration_file in the config (or pass --output FILE, or --dry-run)")
    store = _store(ctx)
    try:
        fit = services.fit_calibration(store, thresholds(loaded), utcnow().isoformat(timespec="seconds"))
    finally:
        store.dispose()
    labelled: dict[str, dict[str, float | int]] = {}
    if pairs_file is not None:
        labelled = _labelled_metrics(pairs_file, thresholds(loaded), fit.calibrations)
    if target is not None and not dry_run:
        save_calibration_set(target, fit.calibrations)
    used = target is not None and configured is not None and target.resolve() == configured.resolve()
    if as_json:
        out = {
            "file": None if dry_run or target is None else str(target),
            "used_by_identity_pass": used and not dry_run,
            "note": fit.calibrations.note,
            "kinds": {k: dataclasses.asdict(v) for k, v in fit.preview.items()},
            "calibration": fit.calibrations.to_dict(),
            "labelled_pairs": labelled,
        }
        click.echo(json.dumps(out))
        return
    click.echo(fit.calibrations.note)
    for kind, p in fit.preview.items():
        click.echo(
            f"{kind}: {p.pairs} candidate pairs; merge {p.merge_expert} -> {p.merge_calibrated}, "
            f"review {p.review_expert} -> {p.review_calibrated} (expert -> calibrated weights)"
        )
        cal = getattr(fit.calibrations, kind)
        if show_weights and cal is not None:
            click.echo(cal.describe())
    for weights, m in labelled.items():
        click.echo(
            f"{pairs_file} with {weights} weights: precision {m['precision']}, recall {m['recall']}, "
            f"F1 {m['f1']} ({m['reviewed']} sent to review)"
        )
    if dry_run or target is None:
        click.echo("dry run: nothing written")
    elif used:
        click.echo(f"written to {target}; every identity pass uses it from now on (`relsync duplicates scan` now)")
    else:
        click.echo(f"written to {target}; set identity.calibration_file to this file to use it")


def _labelled_metrics(
    file: Path, limits: Thresholds, calibrations: CalibrationSet
) -> dict[str, dict[str, float | int]]:
    """Precision, recall and F1 of a labelled CSV with the expert and with the fitted weights."""
    from mapping.identity.pairs import evaluate, parse_pairs, score_pairs

    pairs, problems = parse_pairs(file.read_text(encoding="utf-8"))
    if problems is not None:
        line, message = problems.problems[0]
        raise click.ClickException(f"{file}: line {line}: {message} (check it with `relsync match pairs`)")
    out: dict[str, dict[str, float | int]] = {}
    for weights, cal in (("expert", None), ("calibrated", calibrations)):
        m = evaluate(score_pairs(pairs, limits, cal))
        out[weights] = {
            "pairs": m.pairs,
            "precision": round(m.precision, 4),
            "recall": round(m.recall, 4),
            "f1": round(m.f1, 4),
            "reviewed": m.reviewed,
        }
    return out
