"""What matters to them, not too much contact, growth in order value (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from mapping.contact_pressure import PressureInput, alternative_method, over_contacted, pressure, with_pressure
from mapping.followup_body import full_task_body
from mapping.followups import Create, TaskSummary, subject_for, task_body
from mapping.next_offer import Suggestion
from mapping.potential_signals import order_growth_points, with_growth
from mapping.what_matters import explain_lines, what_matters, with_what_matters

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_the_note_goes_on_top_of_the_task_body() -> None:
    note = what_matters("Acme", "  On-time delivery\r\nOne invoice a month \x07 ")
    assert note.problem is None
    assert with_what_matters("Relationship: Acme", note) == (
        "What matters to them: On-time delivery\n  One invoice a month\n\nRelationship: Acme"
    )
    assert with_what_matters("body", what_matters("Acme", "   ")) == "body"


def test_a_10_kb_note_is_cut_at_a_word_with_a_message_naming_field_and_relationship() -> None:
    note = what_matters("Acme", "price " * 1707)  # 10,241 characters
    assert note.text is not None and len(note.text) <= 500 and note.text.endswith("price...")
    assert note.problem == (
        "the 'What matters' field of Acme holds 10241 characters; only the first 500 are shown: shorten it in Outlook"
    )
    assert explain_lines(note)[1].startswith("  note: the 'What matters' field")


def test_unanswered_mail_beyond_the_cadence_moves_to_the_potentials_other_method() -> None:
    sent = [NOW - timedelta(days=d) for d in (20, 13, 6, 1)]
    p = pressure(PressureInput(1, "Acme", 31, sent, ("e-mail", "telephone")), NOW)
    assert p is not None and (p.unanswered, p.allowed, p.method) == (4, 1, "telephone")
    assert "4 messages since" in p.line and "try telephone" in p.line
    assert pressure(PressureInput(1, "Acme", 7, sent[:3], ("e-mail",)), NOW) is None  # weekly: 3 in 3 weeks is fine
    assert pressure(PressureInput(1, "Acme", None, sent, ()), NOW) is None
    assert alternative_method(("e-mail",)) == "telephone" and alternative_method(("meeting", "e-mail")) == "meeting"


def test_over_contacted_lists_the_most_unanswered_first() -> None:
    a = PressureInput(1, "A", 31, [NOW - timedelta(days=d) for d in range(3)], ())
    b = PressureInput(2, "B", 31, [NOW - timedelta(days=d) for d in range(5)], ())
    c = PressureInput(3, "C", 31, [NOW], ())
    assert [p.relationship_id for p in over_contacted([a, b, c], NOW)] == [2, 1]


def test_growth_in_order_value_adds_its_points_to_the_potential() -> None:
    assert order_growth_points(Decimal(3000), Decimal(1000)) == 7.5
    assert order_growth_points(Decimal(0), Decimal(0)) == 0.0
    assert order_growth_points(Decimal(100), Decimal(0)) == 1.5  # a first small order is not huge growth
    assert with_growth(40.0, (("size", 15.0),), -7.5) == (32.5, (("size", 15.0), ("growth in order value", -7.5)))


def test_an_over_contacted_relationships_next_task_moves_to_a_call_and_says_why() -> None:
    c = Create(
        1,
        4,
        "cadence",
        "monthly",
        NOW.date(),
        NOW,
        "Normal",
        "e-mail",
        subject_for("Acme", "cadence", "monthly", "e-mail"),
    )
    p = pressure(PressureInput(1, "Acme", 31, [NOW - timedelta(days=d) for d in (9, 5, 2)], ("e-mail",)), NOW)
    assert p is not None
    moved = with_pressure(c, p)
    assert (moved.method, moved.subject) == ("telephone", "Follow up: Acme (monthly: telephone)")
    summary = TaskSummary("Acme", "customer", "Average", 55.0, "Low", "telephone", NOW.date())
    offer = Suggestion("Gadget", 0.5, 3, 6, "industry=retail")
    body = full_task_body(
        summary, what_matters("Acme", "Fast answers"), ["Thank them for order SO-1."], [offer], p.line
    )
    lines = body.splitlines()
    assert lines[0] == "What matters to them: Fast answers"
    assert lines[2:4] == ["Why now:", "  Thank them for order SO-1."] and "no more e-mail" in lines[4]
    assert lines[-1] == "  Gadget: bought by 3 of 6 similar customers (50 %; industry=retail)"
    assert full_task_body(summary) == task_body(summary)
