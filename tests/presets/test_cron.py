from __future__ import annotations

import pytest

from nitro.presets.cron import CronError, expand_alias, to_eventbridge, to_ncrontab, to_unix


@pytest.mark.parametrize(
    ("cron", "eventbridge"),
    [
        ("*/5 * * * *", "cron(0/5 * * * ? *)"),
        ("0 3 * * *", "cron(0 3 * * ? *)"),
        ("30 2 1 * *", "cron(30 2 1 * ? *)"),
        ("0 9 * * 1", "cron(0 9 ? * MON *)"),
        ("0 9 * * 1-5", "cron(0 9 ? * MON-FRI *)"),
        ("0 0 * * 0,6", "cron(0 0 ? * SUN,SAT *)"),
        ("0 0 * * 7", "cron(0 0 ? * SUN *)"),
        ("0 0 * * */2", "cron(0 0 ? * SUN,TUE,THU,SAT *)"),
        ("0 */6 */2 * *", "cron(0 0/6 1/2 * ? *)"),
        ("@hourly", "cron(0 * * * ? *)"),
        ("@weekly", "cron(0 0 ? * SUN *)"),
    ],
)
def test_eventbridge(cron: str, eventbridge: str) -> None:
    assert to_eventbridge(cron) == eventbridge


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 0 1 * 1", "cannot combine a day of the month with a day of the week"),
        ("*/10 * * * * *", "cannot schedule by the second"),
        ("0 0 * * 9", "outside 0-7"),
        ("0 0 * * 5-2", "runs backwards"),
        ("* * *", "expected 5 fields"),
    ],
)
def test_eventbridge_refuses_what_it_cannot_express(cron: str, message: str) -> None:
    with pytest.raises(CronError, match=message):
        to_eventbridge(cron)


def test_ncrontab_and_unix() -> None:
    assert to_ncrontab("*/5 * * * *") == "0 */5 * * * *"
    assert to_ncrontab("@daily") == "0 0 0 * * *"
    assert to_ncrontab("*/10 * * * * *") == "*/10 * * * * *"  # seconds are fine on Azure
    assert to_unix("@monthly") == "0 0 1 * *"
    with pytest.raises(CronError, match="Vercel cannot schedule by the second"):
        to_unix("* * * * * *", "Vercel")
    assert expand_alias("  0   1 * * *  ") == "0 1 * * *"
