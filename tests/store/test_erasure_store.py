"""Erasure's store service on SQLite and PostgreSQL: interactions only with the person go, shared ones
stay without them (and without a subject naming them), accounting rows stay anonymised or go."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from mapping.store import audit, sales_rollup
from mapping.store import privacy_erase as pe
from mapping.store.models import (
    Direction,
    EmailAddress,
    Interaction,
    InteractionKind,
    InteractionParticipant,
    ParticipantRole,
    Person,
    Transaction,
    TransactionKind,
)
from mapping.store.models_privacy import Suppression
from mapping.store.store import Store

NOW = datetime(2026, 12, 7, tzinfo=UTC)
KEY = b"relsync test audit key (not a secret)"


def _seed(store: Store) -> int:
    with store.session() as s:
        jane = Person(
            display_name="Jane Roe", emails=[EmailAddress(address="jane@acme.example", original="jane@acme.example")]
        )
        s.add(jane)
        s.flush()

        def interaction(subject: str, *others: str) -> None:
            s.add(
                Interaction(
                    kind=InteractionKind.EMAIL,
                    subject=subject,
                    occurred_at=NOW,
                    direction=Direction.INBOUND,
                    participants=[
                        InteractionParticipant(
                            person_id=jane.id, address="jane@acme.example", role=ParticipantRole.FROM
                        ),
                        *[InteractionParticipant(address=o, role=ParticipantRole.TO) for o in others],
                    ],
                )
            )

        interaction("Only Jane")
        interaction("Lunch with Jane Roe", "max@other.example")  # someone no person is known for yet
        interaction("Quarterly numbers", "max@other.example")
        s.add(
            Transaction(
                occurred_on=date(2026, 1, 1),
                customer_key="jane@acme.example",
                person_id=jane.id,
                kind=TransactionKind.ORDER,
                amount=Decimal("10.00"),
                currency="EUR",
                source_file="s.csv",
                source_line=2,
                fingerprint="f" * 64,
            )
        )
        return jane.id


@pytest.mark.parametrize("keep", [True, False])
def test_erase_store_removes_the_person_and_keeps_what_others_share(store: Store, keep: bool) -> None:
    jane = _seed(store)
    with store.session() as s:
        sales_rollup.refresh(s)  # the seed wrote its sales row past the import
    with store.session() as s:
        subject = pe.find_subject(s, "JANE@acme.example ", KEY)
        assert subject is not None and subject.person_ids == (jane,)
        plan = pe.plan_erasure(s, subject)
        assert len(plan.removed_interactions) == 1 and len(plan.kept_interactions) == 2
        erasure = pe.begin(s, plan, "user:test", NOW)
    with store.session() as s:
        counts = pe.erase_store(s, plan, keep_transactions=keep)
        pe.finish(s, erasure, {"store": counts, "exchange": {}}, NOW)
    with store.session() as s:
        subjects = sorted(str(i.subject) for i in s.scalars(sa.select(Interaction)))
        assert subjects == ["None", "Quarterly numbers"]  # the one naming her lost its subject
        assert set(s.scalars(sa.select(InteractionParticipant.address))) == {"max@other.example"}
        assert s.get(Person, jane) is None
        rows = list(s.scalars(sa.select(Transaction)))
        if keep:
            assert [(t.customer_key, t.person_id, t.amount) for t in rows] == [("erased", None, Decimal("10.00"))]
        else:
            assert rows == []
        # The overview's revenue by product no longer counts an erased sale (kept ones still count).
        assert sales_rollup.is_current(s)
        day = date(2026, 1, 1)
        assert sales_rollup.product_revenue(s, day, day, None) == ([(None, Decimal("10.00"))] if keep else [])
        assert s.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 1
        assert pe.finished_erasure(s, pe.subject_hash(KEY, "jane@acme.example")) is not None
        assert audit.verify(s).ok
