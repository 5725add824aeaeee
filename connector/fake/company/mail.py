"""Mail of a generated company: internal rounds, outbound mail with staff on Cc, inbound mail to
several staff, customer threads, and the inbox's tail of newsletters, no-reply and free-mail senders.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from connector.fake.company import names
from connector.fake.company.layout import INBOX_MIX, MIX_COUNT, MIX_RANK, THREAD_IN, THREAD_OUT, THREAD_SHAPES
from connector.fake.company.parts import CompanyParts
from connector.fake.company.rand import between, conversation_id, pick, seeded_rng, stable_hash
from connector.fake.model import ItemSpec, Mailbox


class MailItems(CompanyParts):
    """Sent Items and Inbox of :class:`~connector.fake.company.generator.FakeCompany`."""

    # ---- sent items -------------------------------------------------------------------------------

    def _sent(self, m: int, i: int) -> ItemSpec:
        lay = self.layout
        if i < lay.int_rounds:
            fields, extra = self._internal(m, i)
            extra["copies"] = self._copies(self._int, "inbox", 0, m, i, include_self=("sentitems", i))
            return ItemSpec("Message", self._deliver(fields, m, "sentitems", "int", m, i), extra=extra)
        i2 = i - lay.int_rounds
        if i2 < lay.occ_rounds:
            fields, extra = self._outbound_cc(m, i2)
            extra["copies"] = self._copies(self._occ, "inbox", lay.inbox_int, m, i2, include_self=("sentitems", i))
            return ItemSpec("Message", self._deliver(fields, m, "sentitems", "occ", m, i2), extra=extra)
        j = i2 - lay.occ_rounds
        c, q = divmod(j, len(THREAD_OUT))
        local, pos = THREAD_OUT[q]
        fields, extra = self._thread_message(m, c * len(THREAD_SHAPES) + local, pos)
        return ItemSpec("Message", self._deliver(fields, m, "sentitems", "thr", m, extra["thread"], pos), extra=extra)

    def _internal(self, a: int, t: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Round ``t`` of internal mail sent by staff ``a``."""
        rng = seeded_rng(self.seed, "int", a, t)
        sender = self.staff[a]
        rcpts = tuple(self._smb[(a + o) % self.n] for o in self._int.offsets(t))
        sensitivity = "Normal"
        if t % 10 == 3:  # a fixed share, so every scale has some (tests rely on it)
            sensitivity, subject = "Confidential", pick(rng, names.CONFIDENTIAL_SUBJECTS)
        elif t % 10 == 7:
            sensitivity, subject = "Private", pick(rng, names.PRIVATE_SUBJECTS)
        else:
            subject = pick(rng, names.INTERNAL_SUBJECTS).format(q=between(rng, 1, 5))
        sent = self._past(rng)
        greeting = f"Hi {rcpts[0].name.split()[0]}," if len(rcpts) == 1 else "Hi all,"
        fields = self._message(
            sender=self._smb[a],
            to=rcpts[:1],
            cc=rcpts[1:],
            subject=subject,
            topic=subject,
            body=self._body(rng.getrandbits(64), greeting, sender.given_name),
            sent=sent,
            mid=self._mid(self.domain, "int", a, t),
            conversation=conversation_id(self.seed, "int", a, t),
            sensitivity=sensitivity,
            importance="High" if rng.random() < 0.05 else "Normal",
        )
        return fields, {"kind": "internal", "key": ("int", a, t)}

    def _outbound_cc(self, a: int, u: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Round ``u`` of mail from staff ``a`` to a customer with colleagues on Cc."""
        rng = seeded_rng(self.seed, "occ", a, u)
        sender = self.staff[a]
        person = self.people[pick(rng, self._books[a])]
        cc = tuple(self._smb[(a + o) % self.n] for o in self._occ.offsets(u))
        subject = pick(rng, names.THREAD_SUBJECTS).format(
            p=pick(rng, names.PRODUCTS), n=between(rng, 10000, 99999), y=self.anchor.year
        )
        fields = self._message(
            sender=self._smb[a],
            to=(self._pmb[person.index],),
            cc=cc,
            subject=subject,
            topic=subject,
            body=self._body(rng.getrandbits(64), f"Dear {person.given_name},", sender.name),
            sent=self._past(rng),
            mid=self._mid(self.domain, "occ", a, u),
            conversation=conversation_id(self.seed, "occ", a, u),
        )
        return fields, {"kind": "outbound_cc", "key": ("occ", a, u), "person": person.index}

    def _inbound_multi(self, a: int, v: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Round ``v`` of mail from a customer of staff ``a`` to ``a`` and colleagues."""
        rng = seeded_rng(self.seed, "imr", a, v)
        person = self.people[pick(rng, self._books[a])]
        offs = self._imr.offsets(v)
        rcpts = tuple(self._smb[(a + o) % self.n] for o in offs)
        subject = pick(rng, names.THREAD_SUBJECTS).format(
            p=pick(rng, names.PRODUCTS), n=between(rng, 10000, 99999), y=self.anchor.year
        )
        domain = person.email.rsplit("@", 1)[1]
        fields = self._message(
            sender=self._pmb[person.index],
            to=rcpts[:1],
            cc=rcpts[1:],
            subject=subject,
            topic=subject,
            body=self._body(
                rng.getrandbits(64), "Hello all," if len(rcpts) > 1 else f"Hi {rcpts[0].name.split()[0]},", person.name
            ),
            sent=self._past(rng),
            mid=self._mid(domain, "imr", a, v),
            conversation=conversation_id(self.seed, "imr", a, v),
        )
        return fields, {"kind": "inbound_multi", "key": ("imr", a, v), "person": person.index}

    # ---- customer threads ------------------------------------------------------------------------

    def _thread_message(self, m: int, h: int, pos: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Message ``pos`` of customer thread ``h`` of staff ``m`` (both directions)."""
        length, starts_in = THREAD_SHAPES[h % len(THREAD_SHAPES)]
        rng = seeded_rng(self.seed, "thr", m, h)
        staff = self.staff[m]
        roll = rng.random()
        person_index = -1
        if roll < 0.88:
            person_index = pick(rng, self._books[m])
            p = self.people[person_index]
            counterpart = self._pmb[person_index]
            # The two-address person writes from her private address now and then.
            if p.other_emails and rng.random() < 0.5:
                counterpart = Mailbox(p.name, p.other_emails[0])
        else:
            counterpart = self._freemail_person(rng)
        subject = pick(rng, names.THREAD_SUBJECTS).format(
            p=pick(rng, names.PRODUCTS), n=between(rng, 10000, 99999), y=self.anchor.year
        )
        # Gaps between replies: hours to a few days; the whole thread stays in the past.
        bits = rng.getrandbits(80)
        gaps = [600 + (bits >> (20 * k)) % (3 * 86400 - 600) for k in range(4)]
        start = self._past(rng, min_days=sum(gaps) / 86400 + 0.01)
        sensitivity = "Private" if h % 25 == 4 else ("Personal" if h % 40 == 9 else "Normal")
        categories = (pick(rng, names.MESSAGE_CATEGORIES),) if rng.random() < 0.05 else ()
        cext = counterpart.email.rsplit("@", 1)[1]
        own = self.domain

        def mid(k: int) -> str:
            inbound_k = (k % 2 == 0) == starts_in
            return self._mid(cext if inbound_k else own, "thr", m, h, k)

        inbound = (pos % 2 == 0) == starts_in
        sent = start + timedelta(seconds=sum(gaps[:pos]))
        body_bits = stable_hash(self.seed, "thrmsg", m, h, pos)
        if inbound:
            sender, to = counterpart, (self._smb[m],)
            body = self._body(body_bits, f"Hi {staff.given_name},", counterpart.name)
        else:
            sender, to = self._smb[m], (counterpart,)
            body = self._body(body_bits, f"Dear {counterpart.name.split()[0]},", staff.name)
        fields = self._message(
            sender=sender,
            to=to,
            cc=(),
            subject=subject if pos == 0 else f"RE: {subject}",
            topic=subject,
            body=body,
            sent=sent,
            mid=mid(pos),
            conversation=conversation_id(self.seed, "thr", m, h),
            references=tuple(mid(k) for k in range(pos)),
            sensitivity=sensitivity,
            categories=categories,
        )
        extra = {
            "kind": "thread",
            "thread": h,
            "position": pos,
            "length": length,
            "person": person_index,
            "freemail": person_index < 0 or counterpart.email != self.people[person_index].email,
        }
        return fields, extra

    # ---- inbox -------------------------------------------------------------------------------------

    def _inbox(self, m: int, i: int) -> ItemSpec:
        lay = self.layout
        if i < lay.inbox_int:
            t, a, _ = self._int.locate(m, i)
            fields, extra = self._internal(a, t)
            extra["copies"] = self._copies(self._int, "inbox", 0, a, t, include_self=("sentitems", t))
            return ItemSpec("Message", self._deliver(fields, m, "inbox", "int", a, t), extra=extra)
        i2 = i - lay.inbox_int
        if i2 < lay.inbox_occ:
            u, a, _ = self._occ.locate(m, i2)
            fields, extra = self._outbound_cc(a, u)
            extra["copies"] = self._copies(
                self._occ, "inbox", lay.inbox_int, a, u, include_self=("sentitems", lay.int_rounds + u)
            )
            return ItemSpec("Message", self._deliver(fields, m, "inbox", "occ", a, u), extra=extra)
        i3 = i2 - lay.inbox_occ
        if i3 < lay.inbox_imr:
            v, a, _ = self._imr.locate(m, i3)
            fields, extra = self._inbound_multi(a, v)
            extra["copies"] = self._copies(self._imr, "inbox", lay.inbox_int + lay.inbox_occ, a, v)
            return ItemSpec("Message", self._deliver(fields, m, "inbox", "imr", a, v), extra=extra)
        j = i3 - lay.inbox_imr
        c, q = divmod(j, len(INBOX_MIX))
        kind = INBOX_MIX[q]
        k = c * MIX_COUNT[kind] + MIX_RANK[q]
        if kind == "T":
            c2, q2 = divmod(k, len(THREAD_IN))
            local, pos = THREAD_IN[q2]
            fields, extra = self._thread_message(m, c2 * len(THREAD_SHAPES) + local, pos)
            return ItemSpec("Message", self._deliver(fields, m, "inbox", "thr", m, extra["thread"], pos), extra=extra)
        fields, extra = self._bulk(m, kind, k)
        return ItemSpec("Message", self._deliver(fields, m, "inbox", kind, m, k), extra=extra)

    def _bulk(self, m: int, kind: str, k: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Newsletters (N), no-reply notices (R) and one-off free-mail senders (F)."""
        rng = seeded_rng(self.seed, "bulk", kind, m, k)
        staff = self.staff[m]
        sent = self._past(rng)
        if kind == "F":
            sender = self._freemail_person(rng)
            subject = pick(
                rng,
                ("Enquiry", "Question about your products", "Price for {p}?", "Do you deliver to private customers?"),
            ).format(p=pick(rng, names.PRODUCTS))
            body = self._body(rng.getrandbits(64), "Hello,", sender.name)
            extra_kind = "freemail"
        else:
            table = names.NEWSLETTERS if kind == "N" else names.NOREPLY
            display, address, subjects = table[k % len(table)]
            sender = Mailbox(display, address)
            subject = pick(rng, subjects).format(n=between(rng, 100, 9999))
            body = (
                f"{subject}\n\nThis message was sent to {staff.email}.\nUnsubscribe: https://{address.split('@')[1]}/u"
            )
            extra_kind = "newsletter" if kind == "N" else "noreply"
        domain = sender.email.rsplit("@", 1)[1]
        fields = self._message(
            sender=sender,
            to=(self._smb[m],),
            cc=(),
            subject=subject,
            topic=subject,
            body=body,
            sent=sent,
            mid=self._mid(domain, "bulk", kind, m, k),
            conversation=conversation_id(self.seed, "bulk", kind, m, k),
        )
        return fields, {"kind": extra_kind, "key": ("bulk", kind, m, k)}

    # ---- contacts ----------------------------------------------------------------------------------
