"""Home Assistant: a notification through one of your instance's notify actions, e.g. to the companion app.

The message is a call of the action `notify.<HASS_NOTIFY_SERVICE>` over the REST API with a long-lived access
token (your profile → Security). `notify.notify` exists only where a notifier without a name is set up; for a
phone it is `notify.mobile_app_<device>`, and `notify.persistent_notification` puts the message among Home
Assistant's own notifications (the bell in its sidebar). Developer tools → Actions lists the ones your
instance has. HASS_NOTIFY_SERVICE may be written with or without its `notify.` prefix, and HASS_URL with or
without a trailing `/api`.

Home Assistant answers a call of an action it does not have with a bare "400: Bad Request" (a 404 where no
such path is served), and an unknown token with "401: Unauthorized", neither saying more; the errors here say
which setting to check. A success is the JSON list of entity states the call changed (for a
notify action usually empty), so a 200 that is not a list (a proxy's login page) is not taken for one.

Notify actions render their title and message as templates: a build log with `{{` or `{%` in it would be
evaluated, or break the call. Text holding a template delimiter is therefore sent as one template expression
that prints the text literally; any other text is sent as is. The companion apps' push relay allows 500
notifications a day per device (reset at midnight UTC), counted per phone rather than per action, so no rate is
kept here.
"""

from __future__ import annotations

import json
import re

from pydantic import Field, SecretStr, field_validator

from channels.base import BaseUrl, Channel, ChannelSettings, Request, snippet
from mcp_push.models import Notification

_TEMPLATE = re.compile(r"\{[{%#]")  # what makes Home Assistant treat a string as a template
_SERVICE = re.compile(r"[a-z0-9_]+")


def literal(text: str) -> str:
    """`text` as Home Assistant will show it after rendering it as a template."""
    if not _TEMPLATE.search(text):
        return text
    # A JSON string is a valid Jinja string literal (same escapes), and a template may hold `}}` inside one.
    return "{{ " + json.dumps(text, ensure_ascii=False) + " }}"


class Settings(ChannelSettings):
    HASS_URL: BaseUrl = Field(description="Your Home Assistant's address, e.g. http://homeassistant.local:8123.")
    HASS_TOKEN: SecretStr = Field(description="A long-lived access token (your profile → Security).")
    HASS_NOTIFY_SERVICE: str = Field(
        "notify", description="The notify action, e.g. mobile_app_pixel_8 (Developer tools → Actions); default notify."
    )

    @field_validator("HASS_URL")
    @classmethod
    def _without_api(cls, value: str) -> str:
        return value.removesuffix("/api")  # the paths below start with /api themselves

    @field_validator("HASS_NOTIFY_SERVICE")
    @classmethod
    def _service(cls, value: str) -> str:
        value = value.removeprefix("notify.")
        if not _SERVICE.fullmatch(value):
            raise ValueError(
                "must be a notify action's name: lower-case letters, digits and _, e.g. mobile_app_pixel_8"
            )
        return value


class HomeAssistant(Channel[Settings]):
    name = "home_assistant"
    label = "Home Assistant"
    group = "self-hosted"
    docs = "https://developers.home-assistant.io/docs/api/rest/"
    Settings = Settings

    def build(self, note: Notification) -> Request:
        s = self.settings
        return Request(
            "POST",
            f"{s.HASS_URL}/api/services/notify/{s.HASS_NOTIFY_SERVICE}",
            headers={"Authorization": f"Bearer {s.secret('HASS_TOKEN')}"},
            json={"title": literal(note.title), "message": literal(note.content)},
        )

    def check(self, response):
        action = f"notify.{self.settings.HASS_NOTIFY_SERVICE}"
        if response.status_code == 401:
            return "Home Assistant refused HASS_TOKEN: create a long-lived access token (your profile → Security)"
        if response.status_code == 403:
            return (
                "refused this address: Home Assistant bans one after repeated failed logins (see its ip_bans.yaml), "
                "or a proxy in front of it blocks it"
            )
        if response.status_code == 400:
            return (
                f"Home Assistant has no action {action}, or refused its data ({snippet(response, 80)}): set "
                "HASS_NOTIFY_SERVICE to one that Developer tools → Actions lists, e.g. mobile_app_<your phone>"
            )
        if response.status_code == 404:
            return (
                f"no action {action} found ({snippet(response, 80)}): check HASS_NOTIFY_SERVICE, and that HASS_URL "
                "is the address you open Home Assistant at"
            )
        if not response.is_success:
            return None  # the base reports the status and the body
        body = response.json()
        if isinstance(body, list) or (isinstance(body, dict) and "changed_states" in body):
            return None
        return f"not Home Assistant's answer (a list of changed states): {snippet(response)}"


CHANNEL = HomeAssistant
