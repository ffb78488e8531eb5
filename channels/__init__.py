"""One module per push service. This registry is the only list of them.

Each entry maps a channel name (= its module) to the env vars that switch it on: its required settings.
Only the modules of channels whose vars are set get imported, which keeps every send fast.
The order is qinglong's enable order, so reports read the way its users expect, then the channels it lacks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from channels.base import Channel

REGISTRY: dict[str, tuple[str, ...]] = {
    "bark": ("BARK_PUSH",),
    "console": ("CONSOLE",),
    "dingtalk": ("DD_BOT_TOKEN",),
    "feishu": ("FSKEY",),
    "go_cqhttp": ("GOBOT_URL", "GOBOT_QQ"),
    "gotify": ("GOTIFY_URL", "GOTIFY_TOKEN"),
    "igot": ("IGOT_PUSH_KEY",),
    "serverchan": ("PUSH_KEY",),
    "pushdeer": ("DEER_KEY",),
    "synology_chat": ("CHAT_URL", "CHAT_TOKEN"),
    "pushplus": ("PUSH_PLUS_TOKEN",),
    "weplus_bot": ("WE_PLUS_BOT_TOKEN",),
    "qmsg": ("QMSG_KEY", "QMSG_TYPE"),
    "wecom_app": ("QYWX_AM",),
    "wecom_bot": ("QYWX_KEY",),
    "telegram": ("TG_BOT_TOKEN", "TG_USER_ID"),
    "aibotk": ("AIBOTK_KEY", "AIBOTK_TYPE", "AIBOTK_NAME"),
    "smtp": ("SMTP_SERVER", "SMTP_EMAIL"),
    "pushme": ("PUSHME_KEY",),
    "chronocat": ("CHRONOCAT_URL", "CHRONOCAT_QQ", "CHRONOCAT_TOKEN"),
    "webhook": ("WEBHOOK_URL",),
    "ntfy": ("NTFY_TOPIC",),
    "wxpusher": ("WXPUSHER_APP_TOKEN",),
    "wxpusher_spt": ("WXPUSHER_SPT_LIST",),
    "openilink": ("OPENILINK_APP_TOKEN",),
    # Beyond qinglong's: the services teams elsewhere use, self-hosted servers, this machine, and Apprise.
    "slack": ("SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN"),
    "discord": ("DISCORD_WEBHOOK_URL",),
    "teams": ("TEAMS_WEBHOOK_URL",),
    "pushover": ("PUSHOVER_TOKEN", "PUSHOVER_USER"),
    "matrix": ("MATRIX_HOMESERVER", "MATRIX_ACCESS_TOKEN", "MATRIX_ROOM_ID"),
    "google_chat": ("GOOGLE_CHAT_WEBHOOK_URL",),
    "mattermost": ("MATTERMOST_WEBHOOK_URL",),
    "rocketchat": ("ROCKETCHAT_WEBHOOK_URL",),
    "zulip": ("ZULIP_SITE", "ZULIP_EMAIL", "ZULIP_API_KEY", "ZULIP_TO"),
    "signal": ("SIGNAL_API_URL", "SIGNAL_NUMBER", "SIGNAL_RECIPIENTS"),
    "home_assistant": ("HASS_URL", "HASS_TOKEN"),
    "pushbullet": ("PUSHBULLET_TOKEN",),
    "line": ("LINE_CHANNEL_ACCESS_TOKEN", "LINE_TO"),
    "twilio_sms": ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_TO"),
    "pagerduty": ("PAGERDUTY_ROUTING_KEY",),
    "webex": ("WEBEX_TOKEN", "WEBEX_ROOM_ID"),
    "opsgenie": ("OPSGENIE_API_KEY",),
    "desktop": ("DESKTOP",),
    "apprise": ("APPRISE_URLS",),
}

# Not a module: the local history store, where a notification is kept when no channel is configured.
INBOX = "inbox"


def load(name: str) -> type[Channel]:
    """The channel class of module `channels.<name>` (its `CHANNEL` attribute)."""
    if name not in REGISTRY:
        raise KeyError(name)
    return importlib.import_module(f"channels.{name}").CHANNEL
