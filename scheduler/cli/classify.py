"""``relsync explain NAME_OR_EMAIL``: why a relationship is classified as it is."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from mapping.store.store import Store
from scheduler.cli.group import Context, cli, pass_ctx

#: The longest text the store holds that explain can match: an e-mail address (RFC 5321: 320 characters).
MAX_QUERY_CHARS = 320


@cli.command("explain")
@click.argument("name_or_email")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list, one object per relationship found).")
@pass_ctx
def explain(ctx: Context, name_or_email: str, as_json: bool) -> None:
    """Show a relationship's inputs, the rules that fired, staff overrides and the result.

    NAME_OR_EMAIL: a person's e-mail address (their organisation's relationship when they have one),
    or an organisation's or person's name (exact, case-insensitive; else any name containing it).
    Exit status 1 when nothing matches.
    """
    from mapping.store import services

    if len(name_or_email) > MAX_QUERY_CHARS:
        raise click.BadParameter(
            f"{len(name_or_email):,} characters, longer than any name or e-mail address relsync stores (at most "
            f"{MAX_QUERY_CHARS}). Fix: give an e-mail address, or a name or part of it",
            param_hint="NAME_OR_EMAIL",
        )
    from scheduler.followups_job import business_store, followup_policy

    loaded = ctx.config()
    store = Store(loaded.config.store.url)
    try:
        found = services.explained(store, name_or_email)
        # The business case: key dates, referrals, group, what matters, next offer, contact pressure.
        business = business_store(store, loaded).explain(
            [int(e["id"]) for e in found], followup_policy(loaded), datetime.now(UTC)
        )
        for e in found:
            e["business"] = business.get(int(e["id"]))
    finally:
        store.dispose()
    if not found:
        raise click.ClickException(
            f"no organisation or person matches {name_or_email!r} (try an e-mail address, or part of the name)"
        )
    if as_json:
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    for n, entry in enumerate(found):
        if n:
            click.echo("")
        _print(entry)


def _print(e: dict[str, Any]) -> None:
    r = e["result"]
    click.echo(f"{e['name']} ({e['kind']}, relationship {e['id']})")
    if e["classified_at"] is None:
        click.echo("  not classified yet: run `relsync run-once`")
        return
    click.echo(
        f"  result: {r['type']}, {r['status']}, value {r['value_percent']:g} % ({r['tier']}), "
        f"potential {r['potential']}"
        + (f", owner {r['owner']}" if r["owner"] else "")
        + f"  [classified {e['classified_at']}]"
    )
    rank = f", rank {e['value_rank']}" if e["value_rank"] is not None else ""
    credit = f" + referral credit {e['referral_credit']}" if e.get("referral_credit") else ""
    click.echo(f"  value: net revenue {e['net_revenue']}{credit}{rank}")
    if e.get("group"):
        g = e["group"]
        how = "takes the group's tier" if g["inherited"] else "classified individually"
        click.echo(f"  group tier: {g['root']} group value {g['value_percent']} % ({g['tier']}); {how}")
    signals = ", ".join(f"{name} {points:+g}" for name, points in e["potential_signals"]) or "no signal"
    click.echo(f"  potential: score {e['potential_score']:g} ({signals})")
    click.echo("  rules fired: " + (", ".join(e["fired_rules"]) or "none"))
    live = [o for o in e["overrides"] if o["removed_at"] is None]
    click.echo(
        "  staff overrides: "
        + (", ".join(f"{o['dimension']} = {o['value']} (by {o['mailbox']}, {o['set_at']})" for o in live) or "none")
    )
    if e["overridden"]:
        click.echo("  overridden: " + ", ".join(e["overridden"]))
    for note in e["notes"]:
        click.echo(f"  note: {note}")
    _print_business(e.get("business"))
    click.echo("  inputs:")
    for key, value in e["inputs"].items():
        if value in (None, [], {}, 0, "0", "0.00"):
            continue
        click.echo(f"    {key}: {value}")


def _print_business(b: dict[str, Any] | None) -> None:
    """The business case's lines of ``explain`` (README, "Business case")."""
    if not b:
        return
    for line in b["what_matters"]:
        click.echo(f"  {line}")
    kd = b["key_dates"]
    for line in kd["triggers"]:
        click.echo(f"  key date: {line}")
    for line in kd["carried"]:
        click.echo(f"  on the open follow-up: {line}")
    if kd["lapse"] is not None:
        lp = kd["lapse"]
        click.echo(
            f"  buying: {'lapsed' if lp['lapsed'] else 'not lapsed'}, {lp['days_since_last_order']} days since "
            f"the last order (threshold {lp['threshold_days']:g} days: {lp['basis']})"
        )
    r = b["referrals"]
    if r["referred_by"]:
        click.echo(f"  referred by: {r['referred_by']}" + (f" ({r['source']})" if r.get("source") else ""))
    if r["referred_count"]:
        click.echo(
            f"  referrals: {r['referred_count']} customer(s) referred, who brought {r['referred']}; "
            f"credited {r['credited']} on top of its own {r['own']}"
        )
    g = b["group"]
    if g["percent"] is not None:
        click.echo(
            f"  group: {g['root']}, revenue {g['revenue']} ({g['percent']} % of all)"
            + (f", through {g['via']}" if g.get("via") else "")
            + (f"; warning: {g['warning']}" if g["warning"] else "")
        )
    for line in b["next_offer"]:
        click.echo(f"  offer next: {line}")
    if b["contact_pressure"]:
        click.echo(f"  contact pressure: {b['contact_pressure']}")
