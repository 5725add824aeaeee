"""From a read table to cleaned rows, and from a plan to the report a user reads (text or JSON).

:func:`prepare` maps the columns (profile, then ``--map``), cleans every row and collects refusals;
:func:`build_report` says what the import does or would do: rows read, people and organisations to
create, to merge (with whom), to review, rows refused (line and reason), fields that change, values
hygiene fixed or refused, columns nobody maps, and what the reader noticed in the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mapping.contact_import.clean import ContactRow, Refusal, clean_row
from mapping.contact_import.plan import ImportPlan
from mapping.contact_import.profiles import FIELDS, PROFILES, column_fields
from mapping.contact_import.reading import ImportFileError, Table
from mapping.heap import without_cyclic_gc

#: Lines of each list the text report shows (the JSON report has them all).
SHOWN = 20


@dataclass(frozen=True)
class Prepared:
    rows: tuple[ContactRow, ...]
    refused: tuple[Refusal, ...]
    unknown_columns: tuple[str, ...]
    mapped: Mapping[str, str]  # header -> field
    rows_read: int = 0


def parse_map(values: Sequence[str]) -> dict[str, str]:
    """``--map COLUMN=FIELD`` options as a dict, or :class:`ImportFileError` naming the bad one."""
    out: dict[str, str] = {}
    for value in values:
        column, sep, field = value.rpartition("=")
        field = field.strip().lower()
        if not sep or not column.strip():
            raise ImportFileError(f'--map {value!r}: write COLUMN=FIELD, e.g. --map "Cust No=external_id"')
        if field not in FIELDS:
            raise ImportFileError(f"--map {value!r}: {field!r} is no field; use one of {', '.join(FIELDS)}")
        out[column.strip()] = field
    return out


@without_cyclic_gc  # a large file's rows are many small objects and no cycles (see mapping.heap)
def prepare(table: Table, profile: str, overrides: Mapping[str, str], default_region: str | None) -> Prepared:
    """Map the columns and clean every row."""
    if profile not in PROFILES:
        raise ImportFileError(f"--profile {profile!r}: use one of {', '.join(PROFILES)}")
    fields, unknown = column_fields(table.headers, profile, overrides)
    if not any(f in fields.values() for f in ("full_name", "given_name", "surname", "email")):
        raise ImportFileError(
            f"no column gives a name or an e-mail address under profile {profile!r} (headers: "
            f"{', '.join(table.headers[:12])}{' ...' if len(table.headers) > 12 else ''}): pick the profile "
            "of the product that wrote the file, or name the columns with --map COLUMN=FIELD"
        )
    rows: list[ContactRow] = []
    refused: list[Refusal] = []
    pairs = list(fields.items())
    for line, cells in table.rows:
        cleaned = clean_row(line, {field: cells[n] for n, field in pairs}, default_region)
        (rows if isinstance(cleaned, ContactRow) else refused).append(cleaned)  # type: ignore[arg-type]
    return Prepared(
        tuple(rows), tuple(refused), tuple(unknown), {table.headers[n]: f for n, f in pairs}, len(table.rows)
    )


@without_cyclic_gc
def build_report(
    file_name: str,
    profile: str,
    table: Table,
    prepared: Prepared,
    plan: ImportPlan,
    *,
    dry_run: bool,
    batch: int | None,
    earlier: Sequence[int] = (),
) -> dict[str, Any]:
    """The whole report as one JSON-able dict (``--json`` prints it; :func:`report_lines` words it)."""
    lines_of = {r.line: r for r in prepared.rows}
    merges = [
        {
            "lines": list(p.lines),
            "person_id": p.target,
            "name": p.target_name,
            "score": round(p.score or 0, 3),
            "changes": [{"field": c.field, "before": c.before, "after": c.after} for c in p.changes],
            "added": {
                "emails": list(p.new_emails),
                "phones": [x.e164 for x in p.new_phones],
                "address": p.new_postal.line() if p.new_postal else None,
            },
        }
        for p in plan.people
        if not p.creates
    ]
    creates = [
        {"lines": list(p.lines), "name": p.row.display_name, "organisation": p.row.company}
        for p in plan.people
        if p.creates
    ]
    new_org_names = {o.key: o.name for o in plan.new_orgs}
    reviews = [
        {
            "lines": list(p.lines),
            "name": p.row.display_name,
            "with": [
                {"person": r.other if isinstance(r.other, int) else f"line {r.other[2:]}", "score": round(r.score, 3)}
                for r in p.reviews
            ],
        }
        for p in plan.people
        if p.reviews
    ]
    return {
        "file": file_name,
        "profile": profile,
        "dry_run": dry_run,
        "batch": batch,
        "earlier_batches": list(earlier),
        "encoding": table.encoding,
        "rows_read": prepared.rows_read,
        "rows_refused": len(prepared.refused),
        **plan.counts(),
        "refused": [{"line": r.line, "reason": r.reason} for r in prepared.refused],
        "problems": [{"line": p.line, "reason": p.reason} for p in table.problems],
        "notes": list(table.notes) + list(plan.notes),
        "unknown_columns": list(prepared.unknown_columns),
        "columns": dict(prepared.mapped),
        "create": creates,
        "merge": merges,
        "review": reviews,
        "organisations": {
            "create": [{"name": o.name, "lines": list(o.lines)} for o in plan.new_orgs],
            "merge": [
                {"company": k, "into": i, "name": n, "score": round(s, 3)} for k, (i, n, s) in plan.org_merges.items()
            ],
            "review": [
                {
                    "name": new_org_names.get(r.key, r.key),
                    "with": r.store_id,
                    "with_name": r.store_name,
                    "score": round(r.score, 3),
                }
                for r in plan.org_reviews
            ],
        },
        "fixed": [{"line": line, "fix": f} for line, r in lines_of.items() for f in r.fixes],
        "values_refused": [{"line": line, "reason": f} for line, r in lines_of.items() for f in r.refused],
    }


def _capped(items: Sequence[str]) -> list[str]:
    out = list(items[:SHOWN])
    if len(items) > SHOWN:
        out.append(f"  ... and {len(items) - SHOWN} more (--json lists them all)")
    return out


def report_lines(report: Mapping[str, Any]) -> list[str]:
    """The report as text, most important first."""
    head = (
        "dry run (nothing written)"
        if report["dry_run"]
        else f"imported as batch {report['batch']}"
        if report["batch"] is not None
        else "nothing to change"
    )
    out = [
        f"{report['file']}: {report['rows_read']} row(s) read with profile {report['profile']}: {head}",
        f"people: {report['people_to_create']} to create, {report['rows_merged_into_existing']} row(s) to merge into "
        f"existing people ({report['people_changed']} changed, {report['people_unchanged']} unchanged), "
        f"{report['rows_merged_within_file']} merged within the file, {report['people_to_review']} to review, "
        f"{report['rows_refused']} row(s) refused",
        f"organisations: {report['organisations_to_create']} to create, {report['organisations_merged']} matched "
        f"existing ones, {report['organisations_to_review']} to review",
    ]
    if report["encoding"] and report["encoding"] != "utf-8":
        out.append(f"encoding: {report['encoding']}")
    out += [f"note: {n}" for n in report["notes"]]
    if report["earlier_batches"]:
        out.append(f"note: this file was imported before (batch {', '.join(map(str, report['earlier_batches']))})")
    if report["unknown_columns"]:
        cols = report["unknown_columns"]
        out.append(
            f"unknown columns ({len(cols)}), not imported: {', '.join(cols[:SHOWN])}"
            + (f" ... and {len(cols) - SHOWN} more" if len(cols) > SHOWN else "")
            + "; map them with --map COLUMN=FIELD"
        )
    out += _capped([f"refused: line {r['line']}: {r['reason']}" for r in report["refused"]])
    out += _capped([f"problem: line {p['line']}: {p['reason']}" for p in report["problems"]])
    out += _capped(
        [
            f"merge: line {', '.join(map(str, m['lines']))} -> person #{m['person_id']} {m['name']} ({m['score']})"
            + "".join(f"; {c['field']}: {c['before']!r} -> {c['after']!r}" for c in m["changes"])
            + "".join(f"; add {k} {v if isinstance(v, str) else ', '.join(v)}" for k, v in m["added"].items() if v)
            for m in report["merge"]
            if m["changes"] or any(m["added"].values())
        ]
    )
    out += _capped(
        [
            f"review: line {', '.join(map(str, r['lines']))} {r['name']} may be "
            + ", ".join(f"{'#' if isinstance(w['person'], int) else ''}{w['person']} ({w['score']})" for w in r["with"])
            for r in report["review"]
        ]
    )
    orgs = report["organisations"]
    out += _capped(
        [f"organisation: {m['company']!r} is #{m['into']} {m['name']} ({m['score']})" for m in orgs["merge"]]
    )
    out += _capped(
        [
            f"organisation review: {r['name']} may be #{r['with']} {r['with_name']} ({r['score']})"
            for r in orgs["review"]
        ]
    )
    out += _capped([f"fixed: line {f['line']}: {f['fix']}" for f in report["fixed"]])
    out += _capped([f"value refused: line {f['line']}: {f['reason']}" for f in report["values_refused"]])
    if report["dry_run"]:
        out.append("nothing was written; run again with --apply to import (a file imported before imports without it)")
    return out
