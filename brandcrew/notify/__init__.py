"""Alert delivery: webhook (optionally HMAC-signed), Slack incoming webhook, email (SMTP) and SMS
(Twilio-style HTTP API). Transport only: which alerts go where, and retrying later, is
`brandcrew.services.alerts`."""

from brandcrew.notify._retry import RetryPolicy as RetryPolicy
from brandcrew.notify.channels import CHANNEL_KINDS as CHANNEL_KINDS
from brandcrew.notify.channels import SECRET_KEYS as SECRET_KEYS
from brandcrew.notify.channels import Channel as Channel
from brandcrew.notify.channels import build_channel as build_channel
from brandcrew.notify.email import EmailChannel as EmailChannel
from brandcrew.notify.errors import DeliveryError as DeliveryError
from brandcrew.notify.message import Notification as Notification
from brandcrew.notify.message import Severity as Severity
from brandcrew.notify.slack import SlackChannel as SlackChannel
from brandcrew.notify.sms import SmsChannel as SmsChannel
from brandcrew.notify.webhook import WebhookChannel as WebhookChannel
from brandcrew.notify.webhook import verify_signature as verify_signature

__all__ = (
    "CHANNEL_KINDS",
    "SECRET_KEYS",
    "Channel",
    "DeliveryError",
    "EmailChannel",
    "Notification",
    "RetryPolicy",
    "Severity",
    "SlackChannel",
    "SmsChannel",
    "WebhookChannel",
    "build_channel",
    "verify_signature",
)
