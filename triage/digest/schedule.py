"""When the digest runs: a crontab line and systemd units for after arXiv's nightly announcement."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

__all__ = ["schedule_units"]


def schedule_units(command: str, *, home: Path | None = None, time_utc: str = "06:30") -> dict[str, str]:
    """A crontab line and a systemd user service + timer that run ``command`` after arXiv's nightly update.

    The listing feeds refresh around midnight US Eastern (04:00-05:00 UTC),
    Monday to Friday; the default runs at 06:30 UTC on those days.  cron reads
    local time, so the crontab line is converted (and says so).
    """
    hour, minute = (int(x) for x in time_utc.split(":"))
    today = datetime.now(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    local = today.astimezone()
    env = f"TRIAGE_HOME={home} " if home else ""
    logs = f"{home}/logs/cron.log" if home else "$HOME/triage-digest-cron.log"
    crontab = (
        f"# triage nightly digest at {time_utc} UTC ({local:%H:%M} {local.tzname()}), Monday to Friday;\n"
        f"# set TRIAGE_SMTP_PASSWORD=... above this line if you e-mail it\n"
        f"{local.minute} {local.hour} * * 1-5 {env}{command} >>{logs} 2>&1"
    )
    environment = f"Environment=TRIAGE_HOME={home}\n" if home else ""
    service = (
        "[Unit]\n"
        "Description=triage nightly arXiv digest\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"{environment}"
        "# TRIAGE_SMTP_PASSWORD=... in this file, readable only by you\n"
        "EnvironmentFile=-%h/.config/triage/digest.env\n"
        f"ExecStart={command}\n"
        # 75 = another digest was running: not a failure worth a red unit.
        "SuccessExitStatus=75\n"
    )
    timer = (
        "[Unit]\n"
        "Description=Run the triage digest after arXiv's nightly announcement\n\n"
        "[Timer]\n"
        f"OnCalendar=Mon..Fri *-*-* {hour:02d}:{minute:02d}:00 UTC\n"
        "Persistent=true\n"
        "RandomizedDelaySec=10min\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    install = (
        "save the service as ~/.config/systemd/user/triage-digest.service and the timer as "
        "~/.config/systemd/user/triage-digest.timer, then: "
        "systemctl --user daemon-reload && systemctl --user enable --now triage-digest.timer"
    )
    return {"crontab": crontab, "service": service, "timer": timer, "install": install}
