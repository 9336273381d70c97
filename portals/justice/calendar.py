"""Hearings in people's calendars: an iCalendar file (RFC 5545) and a CSV in the columns Google
Calendar documents (which Outlook's import maps by name).

Times are written in Europe/Paris with the zone's VTIMEZONE, so a calendar shows the court's clock
time on either side of a daylight-saving change. Each hearing has one stable UID whatever the number
of people or represented parties it is exported for; a moved hearing keeps its UID with a higher
SEQUENCE, and a cancelled one is published with STATUS:CANCELLED (and METHOD:CANCEL when the file
carries only cancellations), so a calendar that imported it drops it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import timedelta

from icalendar import Alarm, Calendar
from icalendar import Event as IcsEvent

from portals.justice.models import Event
from shared.timeutil import to_strasbourg, utcnow

HEARING_LENGTH = timedelta(hours=1)
ALARM_BEFORE = timedelta(days=1)
UID_DOMAIN = "justice.civic-idp"


def unique_hearings(hearings: Iterable[Event]) -> list[Event]:
    """One entry per hearing, in time order (one case seen through two parties lists it twice)."""
    seen: dict[str, Event] = {}
    for hearing in hearings:
        seen.setdefault(hearing.id, hearing)
    return sorted(seen.values(), key=lambda h: h.at)


def hearing_uid(hearing: Event) -> str:
    return f"{hearing.id}@{UID_DOMAIN}"


def where(hearing: Event) -> str:
    case = hearing.case
    return ", ".join(part for part in (hearing.location, case.court_name if hearing.location != case.court_name else "",
                                       case.court_address) if part)


def describe(hearing: Event) -> str:
    case = hearing.case
    lines = [f"{case.nature} — {case.reference}", case.court_name]
    if case.court_phone or case.court_email:
        lines.append(" ".join(part for part in (case.court_phone, case.court_email) if part))
    return "\n".join(lines)


def export_ics(hearings: Iterable[Event], name: str = "") -> bytes:
    entries = unique_hearings(hearings)
    calendar = Calendar()
    calendar.add("prodid", "-//justice personal space//civic-idp//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    only_cancellations = bool(entries) and all(h.status == "cancelled" for h in entries)
    calendar.add("method", "CANCEL" if only_cancellations else "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", "Europe/Paris")
    for hearing in entries:
        start = to_strasbourg(hearing.at)
        event = IcsEvent()
        event.add("uid", hearing_uid(hearing))
        event.add("dtstamp", utcnow())
        event.add("sequence", hearing.sequence or 0)
        event.add("dtstart", start)
        event.add("dtend", start + HEARING_LENGTH)
        event.add("summary", f"{hearing.label} — {hearing.case.reference}")
        event.add("location", where(hearing))
        event.add("description", describe(hearing))
        if hearing.status == "cancelled":
            event.add("status", "CANCELLED")
        else:
            event.add("status", "CONFIRMED")
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"{hearing.label} — {hearing.case.reference}")
            alarm.add("trigger", -ALARM_BEFORE)
            event.add_component(alarm)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def export_csv(hearings: Iterable[Event]) -> bytes:
    """Google Calendar's import columns and formats (dates MM/DD/YYYY, times 02:00 PM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Subject", "Start Date", "Start Time", "End Date", "End Time", "All Day Event", "Description",
                     "Location", "Private"])
    for hearing in unique_hearings(hearings):
        if hearing.status == "cancelled":
            continue
        start = to_strasbourg(hearing.at)
        end = start + HEARING_LENGTH
        writer.writerow([f"{hearing.label} — {hearing.case.reference}", start.strftime("%m/%d/%Y"),
                         start.strftime("%I:%M %p"), end.strftime("%m/%d/%Y"), end.strftime("%I:%M %p"), "False",
                         describe(hearing), where(hearing), "True"])
    return buffer.getvalue().encode("utf-8-sig")
