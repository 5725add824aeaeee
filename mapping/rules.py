"""Business rules as data: ``{name, when, set}`` entries compiled with the ``rule_engine`` library.

A rule's ``when`` is a `rule_engine <https://zerosteiner.github.io/rule-engine/>`_ expression (a small,
typed, safe language: no ``eval``) over the fields of :data:`RULE_FIELDS`, e.g.::

    [[classification.rules]]
    name = "government accounts go to Carol"
    when = 'industry == "Government" and tier != "Eliminate"'
    set = { owner = "carol@example.com", potential = "High" }

    [[classification.rules]]
    name = "a new lead is worth a quarterly call"
    when = 'type == "lead" and (days_since_first_contact ?? 0) < 90'
    set = { tier = "Marginal" }

Everything is checked when the rules are loaded (:func:`compile_rules`), and every problem is reported in
one :class:`RulesError`, naming the rule by position, name and line (when the caller passes it):

- the expression does not parse;
- it names an unknown field (with rule_engine's suggestion: ``did you mean 'net_revenue'?``);
- it mixes types, or uses a field that may be empty (``latest_inbound_at``, ``size``, ...) where a value
  is needed: rule_engine's nullable types make ``size =~ "lar.*"`` an error; write ``(size ?? "") =~
  "lar.*"`` or compare with ``==`` / ``!= null``;
- it is not a condition (its result is not a boolean);
- ``set`` is empty, names an unknown dimension, or an unknown type, status, tier or potential.

Dates: compare with the derived ``days_since_*`` fields (whole days before the ``now`` that
:func:`mapping.classify.classify_all` is given). rule_engine's built-ins that read the clock or chance
(``$now``, ``$today``, ``$random``) are refused at load: a classification must be the same for the same
facts and ``now`` (``relsync explain``, and no category written back and forth). The others (``$pi``,
``$e``, ``$abs``, ``$min``, ``$max``, ``$sum``, ``$any``, ``$all``, ``$map``, ``$filter``, ``$split``,
``$range``, ``$parse_float``, ``$parse_datetime``, ``$parse_timedelta``, ``$re_groups``) work as
rule_engine documents them. A ``when`` nested deeper than :data:`MAX_DEPTH` (brackets, ``not``s or
a long chain of ``and``/``or``) is refused at load too: evaluating it would exhaust Python's stack.

Rules run in order after the computed classification; each sees the classification as the rules before
it left it (``type``, ``status``, ``tier``, ``potential``, ``value``, ``owner``), later rules win, and
staff overrides win over all rules. A rule that fails on one relationship at run time (a missing
``user_fields["X"]`` key: use ``user_fields&["X"]``) does not fire there; the relationship's
``Classification.notes`` say so.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rule_engine

from mapping.classify_config import ClassificationConfig, ClassificationConfigError, ConfigProblem
from mapping.relationship_records import DIMENSIONS, RELATIONSHIP_TYPES, STATUSES, Dimension, RelationshipFacts

_T = rule_engine.DataType
_STR = _T.STRING
_NUM = _T.FLOAT
_OPT_STR = _T.NULLABLE(_T.STRING)
_OPT_NUM = _T.NULLABLE(_T.FLOAT)
_OPT_DT = _T.NULLABLE(_T.DATETIME)

#: Every field a rule may name, with its rule_engine type. Numbers are FLOAT (rule_engine's decimal).
RULE_FIELDS: Mapping[str, Any] = {
    # the facts
    "id": _STR,
    "kind": _STR,  # "organization" | "person"
    "name": _STR,
    "orders": _NUM,
    "returns": _NUM,
    "referral_credits": _NUM,
    "net_revenue": _NUM,
    "transaction_count": _NUM,
    "order_count": _NUM,
    "first_contact_at": _OPT_DT,
    "latest_transaction_at": _OPT_DT,
    "latest_interaction_at": _OPT_DT,
    "latest_inbound_at": _OPT_DT,
    "inbound_recent": _NUM,
    "outbound_recent": _NUM,
    "meetings_recent": _NUM,
    "inbound_previous": _NUM,
    "outbound_previous": _NUM,
    "meetings_previous": _NUM,
    "size": _OPT_STR,
    "industry": _OPT_STR,
    "geography": _OPT_STR,
    "products": _T.ARRAY(_STR),
    "source": _OPT_STR,
    "referred_by": _OPT_STR,
    "referrals_made": _NUM,
    "parent_name": _OPT_STR,
    "user_fields": _T.MAPPING(_STR, _STR),
    # derived (whole days, None when the date is unknown)
    "days_since_first_contact": _OPT_NUM,
    "days_since_transaction": _OPT_NUM,
    "days_since_interaction": _OPT_NUM,
    "days_since_inbound": _OPT_NUM,
    # the classification so far
    "type": _STR,
    "status": _STR,
    "value": _NUM,  # value_percent
    "tier": _STR,
    "potential": _STR,
    "potential_score": _NUM,
    "owner": _OPT_STR,
}

_FACT_FIELDS: tuple[str, ...] = (
    "id",
    "kind",
    "name",
    "orders",
    "returns",
    "referral_credits",
    "transaction_count",
    "order_count",
    "first_contact_at",
    "latest_transaction_at",
    "latest_interaction_at",
    "latest_inbound_at",
    "inbound_recent",
    "outbound_recent",
    "meetings_recent",
    "inbound_previous",
    "outbound_previous",
    "meetings_previous",
    "size",
    "industry",
    "geography",
    "products",
    "source",
    "referred_by",
    "referrals_made",
    "parent_name",
)


#: Built-ins whose value changes from one evaluation to the next (see the module docstring).
UNSTABLE_BUILTINS: Mapping[str, str] = {
    "now": "reads the clock: compare days_since_first_contact, days_since_transaction, days_since_interaction "
    "or days_since_inbound instead",
    "today": "reads the clock: compare the days_since_* fields instead",
    "random": "changes on every run, so the classification (and the categories in Outlook) would flap",
}
#: Deepest ``when`` accepted: no hand-written condition nests this deep, and evaluation stays far from
#: Python's recursion limit (rule_engine evaluates the tree recursively, a few frames per level).
MAX_DEPTH = 100


class _RecordingContext(rule_engine.Context):  # type: ignore[misc]  # rule_engine ships no types
    """A rule_engine context that records the built-in symbols (``$name``) a rule refers to."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.builtins_used: set[str] = set()

    def resolve_type(self, name: str, scope: str | None = None) -> Any:
        if scope == rule_engine.builtins.Builtins.scope_name:
            self.builtins_used.add(name)
        return super().resolve_type(name, scope=scope)


def _depth(node: object) -> int:
    """How deep ``node``'s expression tree goes (walked without recursion: the tree may be deep)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        slots = [name for cls in type(current).__mro__ for name in getattr(cls, "__slots__", ())]
        values = [getattr(current, name, None) for name in slots if name != "context"]
        values += [v for k, v in getattr(current, "__dict__", {}).items() if k != "context"]
        for value in values:
            items = value if isinstance(value, list | tuple) else (value,)
            stack.extend((item, depth + 1) for item in items if isinstance(item, rule_engine.ast.ASTNodeBase))
    return deepest


class RulesError(ClassificationConfigError):
    """One or more business rules are invalid; ``problems`` names each rule and what is wrong."""

    heading = "invalid business rules"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule as written in the configuration. ``line``: where it starts in the file, if known."""

    name: str
    when: str
    set: Mapping[str, str]
    line: int | None = None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A checked rule, ready to run. ``symbols``: the fields it reads (used to memoise its outcome)."""

    index: int
    name: str
    line: int | None
    rule: rule_engine.Rule
    sets: tuple[tuple[Dimension, str], ...]
    symbols: tuple[str, ...]

    @property
    def label(self) -> str:
        """How ``Classification.fired_rules`` names it."""
        return f"{self.name} (line {self.line})" if self.line is not None else self.name


_get_facts = operator.attrgetter(*_FACT_FIELDS)


def _days(now: datetime, then: datetime | None) -> int | None:
    return None if then is None else (now - then).days


def effective_attributes(facts: RelationshipFacts, config: ClassificationConfig) -> dict[str, str | None]:
    """source / referred_by / industry (or whatever ``config.user_field_map`` maps): the contact's Outlook
    user field when it is non-empty (staff keep it by hand), else the store's value."""
    out: dict[str, str | None] = {}
    for attribute, field_name in config.user_field_map.items():
        value = facts.user_fields.get(field_name, "").strip()
        out[attribute] = value or getattr(facts, attribute, None)
    return out


def facts_context(facts: RelationshipFacts, config: ClassificationConfig, now: datetime) -> dict[str, Any]:
    """The facts as the rules (and ``relsync explain``) see them: every fact field, the attributes from
    Outlook user fields, net revenue and days since each key date. Not yet the classification."""
    ctx: dict[str, Any] = dict(zip(_FACT_FIELDS, _get_facts(facts), strict=True))
    if facts.user_fields:
        ctx.update(effective_attributes(facts, config))
    ctx["net_revenue"] = facts.net_revenue
    ctx["user_fields"] = dict(facts.user_fields)
    ctx["days_since_first_contact"] = _days(now, facts.first_contact_at)
    ctx["days_since_transaction"] = _days(now, facts.latest_transaction_at)
    ctx["days_since_interaction"] = _days(now, facts.latest_interaction_at)
    ctx["days_since_inbound"] = _days(now, facts.latest_inbound_at)
    return ctx


def _allowed_values(config: ClassificationConfig) -> dict[str, tuple[str, ...]]:
    return {
        "type": RELATIONSHIP_TYPES,
        "status": STATUSES,
        "tier": config.tier_names,
        "potential": config.potential_names,
    }


def canonical_value(dimension: str, value: str, config: ClassificationConfig) -> str | None:
    """``value`` spelt as the configuration spells it (case-insensitive match), or ``None`` if unknown.
    Any non-empty owner is valid."""
    if dimension == "owner":
        return value.strip() or None
    allowed = _allowed_values(config).get(dimension)
    if allowed is None:
        return None
    folded = value.strip().casefold()
    return next((a for a in allowed if a.casefold() == folded), None)


def compile_rules(
    specs: Sequence[RuleSpec], config: ClassificationConfig, *, key_prefix: str = "rules"
) -> tuple[CompiledRule, ...]:
    """Check and compile ``specs``; raise :class:`RulesError` listing every bad rule, each named
    ``{key_prefix}[index] 'name'`` with its line when the spec has one (e.g. ``key_prefix =
    "classification.rules"`` for the TOML table)."""
    problems: list[ConfigProblem] = []
    compiled: list[CompiledRule] = []
    names_seen: set[str] = set()
    allowed = _allowed_values(config)
    for index, spec in enumerate(specs):
        key = f"{key_prefix}[{index}] {spec.name!r}"

        def problem(message: str, *, _key: str = key, _line: int | None = spec.line) -> None:
            problems.append(ConfigProblem(_key, message, _line))

        if not spec.name.strip():
            problem("needs a name")
        elif spec.name.casefold() in names_seen:
            problem("another rule has the same name")
        names_seen.add(spec.name.casefold())

        sets: list[tuple[Dimension, str]] = []
        if not spec.set:
            problem("'set' is empty: say what the rule sets (type, status, tier, potential or owner)")
        for dimension, raw in spec.set.items():
            dim = next((d for d in DIMENSIONS if d == dimension), None)
            if dim is None:
                problem(f"cannot set {dimension!r}: one of {', '.join(DIMENSIONS)}")
                continue
            if not isinstance(raw, str):
                problem(f"set.{dimension} must be a string, not {type(raw).__name__}")
                continue
            value = canonical_value(dim, raw, config)
            if value is None:
                if dim == "owner":
                    problem("set.owner must not be empty")
                else:
                    problem(f"unknown {dim} {raw!r}: one of {', '.join(allowed[dim])}")
                continue
            sets.append((dim, value))

        context = _RecordingContext(
            type_resolver=rule_engine.type_resolver_from_dict(dict(RULE_FIELDS)), default_timezone=UTC
        )
        try:
            rule = rule_engine.Rule(spec.when, context=context)
        except RecursionError:
            problem(
                f"'when' is nested too deeply (more than {MAX_DEPTH} levels of brackets, not, and/or). "
                'Fix: simplify it (industry in ["A", "B"] for a chain of or), or split it into several rules'
            )
            continue
        except rule_engine.SymbolResolutionError as exc:
            hint = f" (did you mean {exc.suggestion!r}?)" if exc.suggestion else ""
            problem(f"unknown field {exc.symbol_name!r} in 'when'{hint}")
            continue
        except rule_engine.RuleSyntaxError as exc:
            token = getattr(exc, "token", None)
            where = f" near {token.value!r}" if token is not None and getattr(token, "value", None) else ""
            problem(f"'when' does not parse: {exc.message}{where}: {spec.when!r}")
            continue
        except rule_engine.EngineError as exc:
            problem(f"'when' is not valid: {getattr(exc, 'message', exc)}: {spec.when!r}")
            continue
        unstable = sorted(set(UNSTABLE_BUILTINS) & context.builtins_used)
        if unstable:
            for name in unstable:
                problem(f"'when' uses ${name}, which relsync does not allow: it {UNSTABLE_BUILTINS[name]}")
            continue
        if _depth(rule.statement.expression) > MAX_DEPTH:
            problem(
                f"'when' is nested too deeply (more than {MAX_DEPTH} levels of brackets, not, and/or). "
                'Fix: simplify it (industry in ["A", "B"] for a chain of or), or split it into several rules'
            )
            continue
        result_type = rule.statement.expression.result_type
        if result_type not in (rule_engine.DataType.BOOLEAN, rule_engine.DataType.UNDEFINED):
            problem(f"'when' must be a condition (true or false), not a {result_type.name.lower()}: {spec.when!r}")
            continue
        if len(sets) == len(spec.set) and spec.set:
            compiled.append(
                # Only fields key the memo: built-ins ($pi) and comprehension variables are not in the facts.
                CompiledRule(
                    index, spec.name, spec.line, rule, tuple(sets), tuple(sorted(context.symbols & RULE_FIELDS.keys()))
                )
            )
    if problems:
        raise RulesError(problems)
    return tuple(compiled)
