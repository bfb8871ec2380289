"""Alerts: their lifecycle (raise, pause publishing, acknowledge, resolve), holding statements, and
delivery to the workspace's channels."""

from brandcrew.services.alerts.delivery import AlertNotifier as AlertNotifier
from brandcrew.services.alerts.delivery import DeliveryReport as DeliveryReport
from brandcrew.services.alerts.delivery import add_channel as add_channel
from brandcrew.services.alerts.delivery import channel_settings as channel_settings
from brandcrew.services.alerts.delivery import list_channels as list_channels
from brandcrew.services.alerts.delivery import notification_for as notification_for
from brandcrew.services.alerts.delivery import remove_channel as remove_channel
from brandcrew.services.alerts.lifecycle import NOTICE_KINDS as NOTICE_KINDS
from brandcrew.services.alerts.lifecycle import PAUSE_PREFIX as PAUSE_PREFIX
from brandcrew.services.alerts.lifecycle import STATUSES as STATUSES
from brandcrew.services.alerts.lifecycle import acknowledge_alert as acknowledge_alert
from brandcrew.services.alerts.lifecycle import alert_id_for as alert_id_for
from brandcrew.services.alerts.lifecycle import get_alert as get_alert
from brandcrew.services.alerts.lifecycle import list_alerts as list_alerts
from brandcrew.services.alerts.lifecycle import pause_reason as pause_reason
from brandcrew.services.alerts.lifecycle import propose_statement as propose_statement
from brandcrew.services.alerts.lifecycle import record_alert as record_alert
from brandcrew.services.alerts.lifecycle import resolve_alert as resolve_alert
from brandcrew.services.alerts.lifecycle import statement_for as statement_for

__all__ = (
    "NOTICE_KINDS",
    "PAUSE_PREFIX",
    "STATUSES",
    "AlertNotifier",
    "DeliveryReport",
    "acknowledge_alert",
    "add_channel",
    "alert_id_for",
    "channel_settings",
    "get_alert",
    "list_alerts",
    "list_channels",
    "notification_for",
    "pause_reason",
    "propose_statement",
    "record_alert",
    "remove_channel",
    "resolve_alert",
    "statement_for",
)
