"""Email over SMTP (stdlib `smtplib`): plain-text message, optional STARTTLS or implicit TLS, login."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from brandcrew.notify._retry import RetryPolicy, send_with_retries
from brandcrew.notify.errors import DeliveryError
from brandcrew.notify.message import Notification

__all__ = ("EmailChannel", "email_message")


def email_message(notification: Notification, *, sender: str, to: Sequence[str]) -> EmailMessage:
    """The message sent for a notification."""
    message = EmailMessage()
    message["Subject"] = f"[brandcrew] [{notification.severity.upper()}] {notification.title}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(idstring=notification.id[:32], domain="brandcrew.alerts")
    message["X-Brandcrew-Alert"] = notification.id
    lines = [notification.text, ""]
    lines += [f"{k}: {v}" for k, v in notification.facts.items()]
    message.set_content("\n".join(lines).strip() + "\n")
    return message


class EmailChannel:
    """Sends through an SMTP server; `starttls` upgrades a plain connection, `use_tls` starts with TLS."""

    kind = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int = 587,
        sender: str,
        to: Sequence[str],
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        use_tls: bool = False,
        to_people: bool = False,
        timeout_s: float = 15.0,
        ssl_context: ssl.SSLContext | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not to:
            raise ValueError("an email channel needs at least one recipient")
        self.host, self.port = host, port
        self.sender, self.to = sender, list(to)
        self.username, self.password = username, password
        self.starttls, self.use_tls = starttls, use_tls
        self.to_people = to_people
        self.timeout_s = timeout_s
        self.ssl_context = ssl_context
        self.retry = retry or RetryPolicy()

    def recipients(self, notification: Notification) -> list[str]:
        """The channel's addresses, and with `to_people` those of the people the notice is for."""
        extra = notification.people if self.to_people else ()
        return list(dict.fromkeys([*self.to, *extra]))

    def _send_blocking(self, message: EmailMessage, to: list[str]) -> str:
        context = self.ssl_context or ssl.create_default_context()
        try:
            smtp: smtplib.SMTP = (
                smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
                if self.use_tls
                else smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            )
            with smtp:
                if self.starttls and not self.use_tls:
                    smtp.starttls(context=context)
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(message, from_addr=self.sender, to_addrs=to)
        except smtplib.SMTPResponseException as exc:
            # 4xx replies are temporary by definition (RFC 5321 §4.2.1); 5xx are permanent.
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
                channel=self.kind,
                retryable=400 <= exc.smtp_code < 500,
                status_code=exc.smtp_code,
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"every recipient refused: {exc.recipients}", channel=self.kind, retryable=False
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}", channel=self.kind, retryable=True) from exc
        return f"accepted by {len(to) - len(refused)}/{len(to)} recipients"

    async def send(self, notification: Notification) -> str:
        """Deliver (the blocking SMTP conversation runs in a worker thread)."""
        to = self.recipients(notification)
        message = email_message(notification, sender=self.sender, to=to)
        return await send_with_retries(
            lambda: asyncio.to_thread(self._send_blocking, message, to), self.retry
        )
