"""Calendars of a generated company: meetings organised here and their copies in colleagues'
calendars, series with exceptions, external invitations, personal appointments and all-day events.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any

from connector.fake.company import names
from connector.fake.company.layout import MEETING_SHAPES, PERSONAL_SHAPES
from connector.fake.company.parts import CompanyParts
from connector.fake.company.rand import between, meeting_uid, pick, seeded_rng, zone_info
from connector.fake.company.records import HISTORY_DAYS
from connector.fake.company.series import occurrence_starts
from connector.fake.model import Attendee, ItemSpec, Mailbox, Recurrence
from connector.fake.recurrence import WEEKDAYS


class CalendarItems(CompanyParts):
    """The Calendar folder of :class:`~connector.fake.company.generator.FakeCompany`."""

    def _calendar(self, m: int, i: int) -> ItemSpec:
        lay = self.layout
        if i < lay.mtg_rounds:
            spec = self._meeting(m, i)
            spec.extra["copies"] = self._copies(
                self._mtg, "calendar", lay.mtg_rounds, m, i, include_self=("calendar", i)
            )
            return spec
        i2 = i - lay.mtg_rounds
        if i2 < lay.cal_copies:
            t, a, _ = self._mtg.locate(m, i2)
            spec = self._meeting(a, t)
            spec.extra["copies"] = self._copies(
                self._mtg, "calendar", lay.mtg_rounds, a, t, include_self=("calendar", t)
            )
            return spec
        i3 = i2 - lay.cal_copies
        if i3 < lay.cal_x:
            v, a, _ = self._xmtg.locate(m, i3)
            spec = self._external_meeting(a, v)
            spec.extra["copies"] = self._copies(self._xmtg, "calendar", lay.mtg_rounds + lay.cal_copies, a, v)
            return spec
        return self._personal(m, i3 - lay.cal_x)

    def _local_start(self, rng: random.Random, zone: str, lo_days: int, hi_days: int) -> datetime:
        """A weekday business-hours start in ``zone``, ``lo..hi`` days from the anchor."""
        d = (self.anchor + timedelta(days=between(rng, lo_days, hi_days))).astimezone(zone_info(zone)).date()
        while d.weekday() >= 5:
            d += timedelta(days=1)
        return datetime.combine(d, time(between(rng, 8, 17), pick(rng, (0, 0, 30))), tzinfo=zone_info(zone))

    def _meeting(self, a: int, t: int) -> ItemSpec:
        """Meeting ``t`` organised by staff ``a`` (the same spec in every attendee's calendar)."""
        rng = seeded_rng(self.seed, "mtg", a, t)
        org = self.staff[a]
        shape = MEETING_SHAPES[t % len(MEETING_SHAPES)]
        colleagues = tuple(self._smb[(a + o) % self.n] for o in self._mtg.offsets(t))
        internal_only = shape in ("weekly", "allday", "internal") or not self._books[a]
        externals: tuple[Mailbox, ...] = ()
        if not internal_only and shape != "private":
            k = between(rng, 1, 4)
            externals = tuple(self._pmb[pick(rng, self._books[a])] for _ in range(k))
            externals = tuple(dict.fromkeys(externals))  # same person drawn twice -> once
        zone = org.time_zone
        recurrence: Recurrence | None = None
        duration = timedelta(minutes=pick(rng, (30, 60, 60, 90)))
        if shape == "dst":
            zone, transition = pick(rng, self._transitions)
            start_day = transition - timedelta(weeks=between(rng, 2, 4), days=5)  # a Tuesday
            start = datetime.combine(start_day, time(pick(rng, (9, 10, 14)), 0), tzinfo=zone_info(zone))
            recurrence = Recurrence(
                "Weekly", 1, start_day, days_of_week=(WEEKDAYS[start_day.weekday()],), occurrences=between(rng, 6, 10)
            )
        elif shape == "weekly":
            start = self._local_start(rng, zone, -400, -30)
            if rng.random() < 0.5:
                recurrence = Recurrence(
                    "Weekly", pick(rng, (1, 1, 2)), start.date(), days_of_week=(WEEKDAYS[start.weekday()],)
                )
            else:
                recurrence = Recurrence(
                    "Weekly",
                    1,
                    start.date(),
                    days_of_week=(WEEKDAYS[start.weekday()],),
                    occurrences=between(rng, 10, 30),
                )
        elif shape == "monthly":
            start = self._local_start(rng, zone, -400, -60)
            day = min(start.day, 28)
            start = start.replace(day=day)
            recurrence = Recurrence(
                "AbsoluteMonthly",
                1,
                start.date(),
                day_of_month=day,
                end=start.date() + timedelta(days=between(rng, 150, 365)),
            )
        else:
            start = self._local_start(rng, zone, -HISTORY_DAYS + 30, 60)
        if shape == "allday":
            day0 = start.date()
            start = datetime.combine(day0, time(0), tzinfo=zone_info(zone))
            end = datetime.combine(day0 + timedelta(days=between(rng, 1, 3)), time(0), tzinfo=zone_info(zone))
            subject = pick(rng, ("Company offsite", "Sales kick-off", "Team day"))
        else:
            end = start + duration
            if shape in ("weekly", "internal"):
                subject = pick(rng, names.INTERNAL_MEETING_SUBJECTS)
            elif shape == "private":
                subject = pick(rng, names.PRIVATE_SUBJECTS)
            else:
                subject = pick(rng, names.MEETING_SUBJECTS).format(p=pick(rng, names.PRODUCTS))
        past = start < self.anchor
        attendees = [Attendee(self._smb[a], "Organizer")]
        for mb in (*colleagues, *externals):
            response = pick(
                rng,
                ("Accept", "Accept", "Tentative", "Decline") if past else ("Accept", "Tentative", "NoResponseReceived"),
            )
            attendees.append(Attendee(mb, response))
        optional: tuple[Attendee, ...] = ()
        if len(attendees) > 2 and rng.random() < 0.3:
            optional, attendees = (attendees[-1],), attendees[:-1]
        fields: dict[str, Any] = {
            "ItemClass": "IPM.Appointment",
            "Subject": subject,
            "Body": f"{subject}\n\nAgenda to follow.",
            "Sensitivity": "Private" if shape == "private" else "Normal",
            "Importance": "Normal",
            "Start": start,
            "End": end,
            "IsAllDayEvent": shape == "allday",
            "LegacyFreeBusyStatus": "Busy",
            "Location": "" if shape == "private" else pick(rng, names.LOCATIONS),
            "UID": meeting_uid(self.seed, "mtg", a, t),
            "Organizer": self._smb[a],
            "CalendarItemType": "RecurringMaster" if recurrence else "Single",
            "StartTimeZone": names.WINDOWS_ZONES[zone],
            "EndTimeZone": names.WINDOWS_ZONES[zone],
            "ReminderIsSet": True,
            "IsCancelled": False,
            "DateTimeCreated": min(start, self.anchor) - timedelta(days=between(rng, 1, 20)),
        }
        if len(attendees) > 1:
            fields["RequiredAttendees"] = tuple(attendees)
        if optional:
            fields["OptionalAttendees"] = optional
        exceptions: tuple[ItemSpec, ...] = ()
        deleted: tuple[datetime, ...] = ()
        extra: dict[str, Any] = {
            "kind": "meeting",
            "shape": shape,
            "organiser": a,
            "round": t,
            "internal_only": not externals,
        }
        if recurrence is not None:
            fields["Recurrence"] = recurrence
            exceptions, deleted = self._series_changes(rng, fields, recurrence, shape)
            if shape == "dst":
                extra["dst_zone"] = zone
        return ItemSpec("CalendarItem", fields, exceptions=exceptions, deleted_occurrences=deleted, extra=extra)

    def _series_changes(
        self, rng: random.Random, master: dict[str, Any], rec: Recurrence, shape: str
    ) -> tuple[tuple[ItemSpec, ...], tuple[datetime, ...]]:
        """Moved occurrences and deleted occurrences of a series (weekly series always get both)."""
        starts = occurrence_starts(rec, master["Start"], limit=12)
        if len(starts) < 4 or shape == "dst":
            return (), ()
        picks = rng.sample(range(1, len(starts)), 3 if len(starts) > 4 else 2)
        duration = master["End"] - master["Start"]
        exceptions = []
        for k in picks[:-1]:
            original = starts[k]
            moved = original + timedelta(hours=pick(rng, (1, 2, 24, -1)))
            fields = {key: v for key, v in master.items() if key != "Recurrence"}
            fields.update(
                CalendarItemType="Exception",
                Start=moved,
                End=moved + duration,
                Subject=f"{master['Subject']} (moved)",
                UID=master["UID"],
            )
            exceptions.append(ItemSpec("CalendarItem", fields, original_start=original, extra={"kind": "exception"}))
        return tuple(exceptions), (starts[picks[-1]],)

    def _external_meeting(self, a: int, v: int) -> ItemSpec:
        """An invitation from a customer to staff ``a`` (and maybe colleagues)."""
        rng = seeded_rng(self.seed, "xmtg", a, v)
        person = self.people[pick(rng, self._books[a])]
        org = self.organisations[person.org]
        zone = names.COUNTRIES[org.country][2]
        start = self._local_start(rng, zone, -HISTORY_DAYS + 30, 60)
        end = start + timedelta(minutes=pick(rng, (30, 60)))
        staff = tuple(self._smb[(a + o) % self.n] for o in self._xmtg.offsets(v))
        attendees = (
            Attendee(self._pmb[person.index], "Organizer"),
            *(Attendee(s, pick(rng, ("Accept", "Tentative"))) for s in staff),
        )
        subject = pick(rng, names.MEETING_SUBJECTS).format(p=pick(rng, names.PRODUCTS))
        fields: dict[str, Any] = {
            "ItemClass": "IPM.Appointment",
            "Subject": subject,
            "Body": f"Invitation from {org.name}",
            "Sensitivity": "Normal",
            "Importance": "Normal",
            "Start": start,
            "End": end,
            "IsAllDayEvent": False,
            "LegacyFreeBusyStatus": "Busy",
            "Location": pick(rng, names.LOCATIONS),
            "UID": meeting_uid(self.seed, "xmtg", a, v),
            "Organizer": self._pmb[person.index],
            "CalendarItemType": "Single",
            "StartTimeZone": names.WINDOWS_ZONES[zone],
            "EndTimeZone": names.WINDOWS_ZONES[zone],
            "ReminderIsSet": True,
            "IsCancelled": False,
            "RequiredAttendees": attendees,
            "DateTimeCreated": min(start, self.anchor) - timedelta(days=between(rng, 1, 20)),
        }
        return ItemSpec(
            "CalendarItem", fields, extra={"kind": "external_meeting", "person": person.index, "internal_only": False}
        )

    def _personal(self, m: int, k: int) -> ItemSpec:
        """Appointments and all-day events with no attendees."""
        rng = seeded_rng(self.seed, "personal", m, k)
        staff = self.staff[m]
        tz = zone_info(staff.time_zone)
        shape = PERSONAL_SHAPES[k % len(PERSONAL_SHAPES)]
        day = (self.anchor + timedelta(days=between(rng, -HISTORY_DAYS + 30, 90))).astimezone(tz).date()
        sensitivity = "Normal"
        if shape in ("allday", "vacation"):
            if shape == "vacation":
                subject, busy, days = "Vacation", "OOF", between(rng, 3, 15)
            else:
                subject, busy = pick(rng, names.ALL_DAY_SUBJECTS)
                days = 1
            start = datetime.combine(day, time(0), tzinfo=tz)
            end = datetime.combine(day + timedelta(days=days), time(0), tzinfo=tz)
            all_day = True
        else:
            subject, busy, all_day = pick(rng, ("Dentist", "Focus time", "Call parents", "Gym")), "Busy", False
            sensitivity = "Private" if subject in ("Dentist", "Call parents") else "Normal"
            start = datetime.combine(day, time(between(rng, 7, 18)), tzinfo=tz)
            end = start + timedelta(hours=1)
        fields: dict[str, Any] = {
            "ItemClass": "IPM.Appointment",
            "Subject": subject,
            "Body": "",
            "Sensitivity": sensitivity,
            "Importance": "Normal",
            "Start": start,
            "End": end,
            "IsAllDayEvent": all_day,
            "LegacyFreeBusyStatus": busy,
            "Location": "",
            "UID": meeting_uid(self.seed, "personal", m, k),
            "Organizer": self._smb[m],
            "CalendarItemType": "Single",
            "StartTimeZone": staff.windows_tz,
            "EndTimeZone": staff.windows_tz,
            "ReminderIsSet": not all_day,
            "IsCancelled": False,
            "DateTimeCreated": min(start, self.anchor) - timedelta(days=between(rng, 1, 30)),
        }
        return ItemSpec("CalendarItem", fields, extra={"kind": "personal", "shape": shape, "internal_only": True})

    # ---- tasks --------------------------------------------------------------------------------------
