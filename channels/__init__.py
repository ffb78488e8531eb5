"""One module per push service. This registry is the only list of them.

Each entry maps a channel name (= its module) to the env vars that switch it on: its required settings.
Only the modules of channels whose vars are set get imported, which keeps every send fast.
The order is qinglong's enable order, so reports read the way its users expect.
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
}

# Not a module: the local history store, where a notification is kept when no channel is configured.
INBOX = "inbox"


def load(name: str) -> type[Channel]:
    """The channel class of module `channels.<name>` (its `CHANNEL` attribute)."""
    if name not in REGISTRY:
        raise KeyError(name)
    return importlib.import_module(f"channels.{name}").CHANNEL
