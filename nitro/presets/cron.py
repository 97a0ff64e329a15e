"""One cron, every scheduler: translating `scheduled_tasks` crons for each platform.

nitro's crons are standard 5-field UTC cron (plus ``@hourly``-style aliases, and a
leading seconds field only the built-in scheduler and Azure can honour):

| platform | format |
|---|---|
| AWS EventBridge | ``cron(min hour day-of-month month day-of-week year)``; one of the two day fields is ``?``; days of week are ``SUN``-``SAT`` |
| Google Cloud Scheduler | 5-field unix cron (time zone ``UTC``) |
| Azure timer trigger | 6-field NCRONTAB, seconds first |
| Vercel crons | 5-field unix cron, UTC |

A cron a platform cannot express is a `CronError` naming it, raised at build time.
"""

from __future__ import annotations

__all__ = ["CronError", "expand_alias", "to_eventbridge", "to_ncrontab", "to_unix"]

_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


class CronError(ValueError):
    """A schedule a platform cannot run."""


def expand_alias(cron: str) -> str:
    """``@hourly`` -> ``0 * * * *``; other crons unchanged (whitespace normalised)."""
    cron = " ".join(cron.split())
    return _ALIASES.get(cron, cron)


def _five(cron: str, platform: str) -> list[str]:
    fields = expand_alias(cron).split()
    if len(fields) == 6:
        raise CronError(f"{cron!r}: {platform} cannot schedule by the second; use a 5-field cron")
    if len(fields) != 5:
        raise CronError(f"{cron!r}: expected 5 fields (minute hour day month weekday)")
    return fields


def to_unix(cron: str, platform: str = "this platform") -> str:
    """The 5-field cron for Cloud Scheduler and Vercel (aliases expanded)."""
    return " ".join(_five(cron, platform))


def to_ncrontab(cron: str) -> str:
    """Azure's 6-field NCRONTAB: ``*/5 * * * *`` -> ``0 */5 * * * *``; a 6-field cron as is."""
    fields = expand_alias(cron).split()
    if len(fields) == 6:
        return " ".join(fields)
    if len(fields) != 5:
        raise CronError(f"{cron!r}: expected 5 fields (minute hour day month weekday)")
    return " ".join(["0", *fields])


def to_eventbridge(cron: str) -> str:
    """An EventBridge schedule expression: ``*/5 * * * *`` -> ``cron(0/5 * * * ? *)``."""
    minute, hour, dom, month, dow = _five(cron, "EventBridge")
    if dom != "*" and dow != "*":
        # Unix cron runs when EITHER day field matches; EventBridge cannot say that.
        raise CronError(
            f"{cron!r}: EventBridge cannot combine a day of the month with a day of the week; "
            "split it into two schedules"
        )
    if dow == "*":
        dom_field, dow_field = _step(dom, 1), "?"
    else:
        dom_field, dow_field = "?", _weekdays(dow, cron)
    return f"cron({_step(minute, 0)} {_step(hour, 0)} {dom_field} {_step(month, 1)} {dow_field} *)"


def _step(field: str, start: int) -> str:
    # EventBridge writes "every n" from a start value: */5 -> 0/5 (minutes, hours) or 1/5.
    return field.replace("*/", f"{start}/") if field.startswith("*/") else field


def _weekdays(field: str, cron: str) -> str:
    """Unix day-of-week (0-7, Sunday = 0 or 7) as EventBridge day names."""
    days: list[int] = []
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            first_text, last_text = base.split("-", 1)
            first, last = _day(first_text, cron), _day(last_text, cron)
        else:
            first = last = _day(base, cron)
            if step_text:
                last = 6
        if last < first:
            raise CronError(f"{cron!r}: day-of-week range {part!r} runs backwards")
        days.extend(range(first, last + 1, step))
    ordered = sorted({d % 7 for d in days})
    contiguous = ordered == list(range(ordered[0], ordered[-1] + 1))
    if "/" not in field and len(ordered) > 2 and contiguous:
        return f"{_DAYS[ordered[0]]}-{_DAYS[ordered[-1]]}"
    return ",".join(_DAYS[d] for d in ordered)


def _day(text: str, cron: str) -> int:
    upper = text.upper()
    if upper[:3] in _DAYS:
        return _DAYS.index(upper[:3])
    try:
        value = int(text)
    except ValueError:
        raise CronError(f"{cron!r}: {text!r} is not a day of the week") from None
    if not 0 <= value <= 7:
        raise CronError(f"{cron!r}: day of the week {value} is outside 0-7")
    return value % 7  # 7 is Sunday too
