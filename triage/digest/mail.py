"""Sending the digest over SMTP."""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

from triage.errors import ConfigError, SourceError

if TYPE_CHECKING:
    from triage.service import Triage

__all__ = ["check_email_settings", "send_email", "SMTP_PASSWORD_ENV"]

SMTP_PASSWORD_ENV = "TRIAGE_SMTP_PASSWORD"


def check_email_settings(core: Triage) -> None:
    """ConfigError, before any work is done, when ``--email`` cannot possibly be sent."""
    s = core.settings.digest
    if not s.smtp_host or not s.mail_to:
        raise ConfigError("e-mail needs an SMTP host and a recipient",
                          hint="set TRIAGE_DIGEST__SMTP_HOST and TRIAGE_DIGEST__MAIL_TO (or [digest] in config.toml)")
    if s.smtp_user and not os.environ.get(SMTP_PASSWORD_ENV):
        raise ConfigError(f"SMTP user {s.smtp_user!r} is set but no password", hint=f"set {SMTP_PASSWORD_ENV}")


def send_email(core: Triage, subject: str, text: str, html_body: str) -> None:
    """Send the digest over SMTP (STARTTLS when set; the password from ``TRIAGE_SMTP_PASSWORD``)."""
    check_email_settings(core)
    s = core.settings.digest
    password = os.environ.get(SMTP_PASSWORD_ENV)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = s.mail_from or s.smtp_user or f"triage@{socket.getfqdn()}"
    msg["To"] = s.mail_to
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="triage.local")
    msg.set_content(text)
    msg.add_alternative(html_body, subtype="html")
    try:
        smtp_cls = smtplib.SMTP_SSL if s.smtp_port == 465 else smtplib.SMTP
        with smtp_cls(s.smtp_host or "", s.smtp_port, timeout=30) as smtp:
            smtp.ehlo()
            if s.smtp_starttls and smtp_cls is smtplib.SMTP:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.smtp_user and password:
                smtp.login(s.smtp_user, password)
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise SourceError(f"sending the digest to {s.smtp_host}:{s.smtp_port} failed: {exc}",
                          hint="check the [digest] SMTP settings", external=True) from None
