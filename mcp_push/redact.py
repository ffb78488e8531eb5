"""One place that knows every secret value and scrubs it from any text leaving the process.

Channel errors, reports, CLI output and log records all pass through `redact`, so a token that ends up
in an exception message or a URL (Telegram's `/bot<TOKEN>/`) is masked no matter who formats it.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, quote_plus

MASK = "***"
# Shorter values (a "1", a "true") would mangle ordinary text and are not credentials anyway.
MIN_SECRET_LEN = 4

_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register(*values: str | None) -> None:
    """Remember secret values, along with the encoded forms they take inside URLs and query strings."""
    global _pattern
    added = False
    for value in values:
        if not value or len(value) < MIN_SECRET_LEN:
            continue
        for form in {value, quote(value, safe=""), quote_plus(value), quote(value)}:
            if form not in _secrets:
                _secrets.add(form)
                added = True
    if added:
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    if _pattern is None or not text:
        return text
    return _pattern.sub(MASK, text)


def hint(value: str | None) -> str:
    """What a human may see of a secret: enough to tell two tokens apart, never enough to use one."""
    if not value:
        return ""
    if len(value) >= 16:
        return f"{MASK}{value[-4:]}"
    return MASK


class RedactingFilter(logging.Filter):
    """Applies `redact` to the fully formatted log message, arguments and traceback included."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def reset() -> None:
    """Forget every secret; tests use it to start clean."""
    global _pattern
    _secrets.clear()
    _pattern = None
