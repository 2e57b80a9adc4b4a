"""Times and durations in words for the status window (epoch seconds in, local time out).

The words and unit abbreviations go through Qt's translation (context "TimeFormat").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QCoreApplication

from gui import translations

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


def tr(text: str) -> str:
    return QCoreApplication.translate("TimeFormat", text)


def fill(template: str, *values: object) -> str:
    """`template` translated, with %1, %2, … replaced by `values`."""
    return translations.fill(tr(template), *values)


def local(ts: float) -> datetime:
    """An epoch timestamp (UTC) as an aware datetime in the local time zone."""
    return datetime.fromtimestamp(ts, tz=UTC).astimezone()


def local_midnight(now: float) -> float:
    """The epoch time of the most recent local midnight ("today" starts here)."""
    today = local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return today.timestamp()


def format_datetime(ts: float | None) -> str:
    """A sortable, unambiguous local time: 2025-11-28 14:30:05."""
    return "" if ts is None else local(ts).strftime("%Y-%m-%d %H:%M:%S")


def format_clock(ts: float, now: float) -> str:
    """14:30 today, "tomorrow 09:00", otherwise a short date with the time."""
    when, today = local(ts), local(now).date()
    if when.date() == today:
        return when.strftime("%H:%M")
    if when.date() == today + timedelta(days=1):
        return fill("tomorrow %1", when.strftime("%H:%M"))
    return when.strftime("%a %d %b %H:%M")


def format_duration(seconds: float) -> str:
    """42 s, 4 min 12 s, 3 h 05 min, 2 d 4 h."""
    total = max(0, round(seconds))
    if total < MINUTE:
        return fill("%1 s", total)
    if total < HOUR:
        minutes, secs = divmod(total, 60)
        return fill("%1 min", minutes) if secs == 0 else fill("%1 min %2 s", minutes, secs)
    if total < DAY:
        hours, rest = divmod(total, 3600)
        return fill("%1 h %2 min", hours, f"{rest // 60:02d}")
    days, rest = divmod(total, 86400)
    return fill("%1 d %2 h", days, rest // 3600)


def format_countdown(seconds: float) -> str:
    """0:42, 12:05, 1:02:03 (rounded up, so a countdown never shows 0:00 early)."""
    total = max(0, int(-(-seconds // 1)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_ago(ts: float | None, now: float) -> str:
    """14:02 (3 min ago); "never" when there is no time."""
    if ts is None:
        return tr("never")
    age = now - ts
    if age < MINUTE:
        relative = tr("just now")
    elif age < HOUR:
        relative = fill("%1 min ago", int(age // MINUTE))
    elif age < DAY:
        relative = fill("%1 h ago", int(age // HOUR))
    else:
        relative = fill("%1 d ago", int(age // DAY))
    return fill("%1 (%2)", format_clock(ts, now), relative)
