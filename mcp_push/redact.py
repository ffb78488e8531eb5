"""One place that knows every secret value and scrubs it from any text leaving the process.

Channel errors, reports, CLI output and log records all pass through `redact`, so a token that ends up
in an exception message or a URL (Telegram's `/bot<TOKEN>/`) is masked no matter who formats it.

A secret is remembered in every shape it takes on the way out: percent-encoded in a path or a query string,
JSON-escaped, inside the `repr()` of bytes, base64-encoded inside a Basic or SMTP AUTH credential. A secret
that is a URL or a header line also gives up the credentials inside it (user info, token-like path segments,
query values, the word after `Bearer`), since a server's error page may echo just that part. Log records are
masked as they are created, whichever library logs them (httpx logs request URLs, httpcore response
headers), before any filter, handler or formatter sees them.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit

MASK = "***"
# Shorter values (a "1", a "true") would mangle ordinary text and are not credentials anyway.
MIN_SECRET_LEN = 4
# A piece cut out of a secret, or a base64 fragment, must be longer: "send" or "v2" in a URL is a word, not a key.
MIN_PART_LEN = 8
# Query parameters whose value is a credential whatever it looks like.
SECRET_PARAM = re.compile(r"token|key|secret|pass|auth|sign|sig$|code|session|cred", re.IGNORECASE)

_PERCENT = re.compile("%[0-9A-F]{2}")

_secrets: set[str] = set()
# A pattern for the first characters of every form, and the forms by those characters (see `_compiled`).
_matcher: tuple[re.Pattern[str], dict[str, list[str]]] | None = None
_factory_installed = False


def register(*values: str | None) -> None:
    """Remember secret values, with every form they and the credentials inside them take (see `forms`)."""
    global _matcher
    added = False
    for value in values:
        if not value or len(value) < MIN_SECRET_LEN:
            continue
        for form in forms(value):
            if form not in _secrets:
                _secrets.add(form)
                added = True
    if added:
        _matcher = None  # compiled on next use: a config registers channel after channel
        _install_record_factory()


def _compiled() -> tuple[re.Pattern[str], dict[str, list[str]]] | None:
    """A pattern for the first characters of every form, and the forms by those characters, longest first.
    Hundreds of forms compile in a millisecond this way (one alternation of them all takes a tenth of a second),
    and a text is still scanned once."""
    global _matcher
    if _matcher is None and _secrets:
        index: dict[str, list[str]] = {}
        for form in sorted(_secrets, key=len, reverse=True):
            index.setdefault(form[:MIN_SECRET_LEN], []).append(form)
        _matcher = (re.compile("|".join(re.escape(prefix) for prefix in sorted(index))), index)
    return _matcher


def forms(value: str) -> set[str]:
    """Every shape in which `value`, or a credential inside it, may appear in text."""
    found: set[str] = set()
    for piece in {value, *_pieces(value)}:
        found |= _encodings(piece)
    # A server may write percent-escapes in lower case (`%2b`).
    found |= {_PERCENT.sub(lambda m: m.group().lower(), form) for form in found if "%" in form}
    return {form for form in found if len(form) >= MIN_SECRET_LEN}


def _pieces(value: str) -> list[str]:
    """The credentials inside a secret that a server may echo on their own."""
    words = value.split()
    pieces = [w for w in words if len(w) >= MIN_PART_LEN and not w.endswith(":")] if len(words) > 1 else []
    if "://" in value:
        pieces += _url_pieces(value.strip())
    return pieces


def _url_pieces(value: str) -> list[str]:
    """User info, token-like path segments, and query values that are keys (by name or by look)."""
    try:
        url = urlsplit(value)
    except ValueError:
        return []
    pieces = []
    userinfo, at, _ = url.netloc.rpartition("@")
    if at:
        user, _, password = userinfo.partition(":")
        # The decoded pair is what a Basic Authorization header carries, base64-encoded.
        pieces += [userinfo, password, f"{unquote(user)}:{unquote(password)}"]
    segments = [s for s in url.path.split("/") if _tokenish(unquote(s))]
    if segments:
        pieces += [url.path, *segments]
    for field in url.query.split("&"):
        name, _, raw = field.partition("=")
        if len(raw) >= MIN_SECRET_LEN and (SECRET_PARAM.search(unquote(name)) or _tokenish(raw)):
            pieces += [raw, unquote_plus(raw)]
    return pieces


def _tokenish(text: str) -> bool:
    """Looks like a key rather than a word or a name (`incoming`, `SYNO.Chat.External`): letters and digits
    mixed, or a long run of base64url characters."""
    if len(text) < MIN_PART_LEN:
        return False
    mixed = any(c.isdigit() for c in text) and any(c.isalpha() for c in text)
    return mixed or (len(text) >= 20 and re.fullmatch(r"[\w-]+", text) is not None)


def _encodings(piece: str) -> set[str]:
    encoded = {quote(piece, safe=""), quote(piece), quote_plus(piece)}
    found = {
        piece,
        *encoded,
        # Encoded twice: a URL carried inside another one's query, e.g. a login redirect's `?next=`.
        *(quote(form, safe="") for form in encoded),
        unquote(piece),
        json.dumps(piece)[1:-1],
        json.dumps(piece, ensure_ascii=False)[1:-1],
        repr(piece.encode("utf-8", "surrogatepass"))[2:-1],
    }
    return found | _base64(piece)


def _base64(piece: str) -> set[str]:
    """The base64 of `piece` wherever it sits inside a longer encoded value: for each of the three byte
    alignments, the characters that depend on `piece` alone (a Basic `user:pass`, an AUTH PLAIN blob)."""
    raw = piece.encode("utf-8", "surrogatepass")
    found = {base64.b64encode(raw).decode()}
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        core = encoded[4 if shift else 0 : (len(raw) + shift) // 3 * 4]
        if len(core) >= MIN_PART_LEN:
            found |= {core, core.replace("+", "-").replace("/", "_")}
    return found


def redact(text: str) -> str:
    """`text` with every secret, in any of its forms, replaced by `***`; at each position the longest form
    wins, so a secret that contains another is masked whole."""
    compiled = _compiled() if text else None
    if compiled is None:
        return text
    pattern, index = compiled
    parts, done, pos = [], 0, 0
    while match := pattern.search(text, pos):
        start = match.start()
        form = next((f for f in index[match.group()] if text.startswith(f, start)), None)
        if form is None:
            pos = start + 1
            continue
        parts += [text[done:start], MASK]
        done = pos = start + len(form)
    return "".join([*parts, text[done:]]) if parts else text


def hint(value: str | None) -> str:
    """What a human may see of a secret: enough to tell two tokens apart, never enough to use one."""
    if not value:
        return ""
    if len(value) >= 16:
        return f"{MASK}{value[-4:]}"
    return MASK


def scrub(record: logging.LogRecord) -> None:
    """Mask a log record in place: its message formatted with its arguments, its traceback, its stack."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed call; logging would print the raw arguments later
        message = f"{record.msg} {record.args!r}"
    record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        if not record.exc_text:
            try:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            except Exception:  # noqa: BLE001
                record.exc_text = f"{record.exc_info[0].__name__} (traceback unavailable)"
        # Formatters print the masked text; the live exception (and its frames' locals) goes no further.
        record.exc_info = None
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _install_record_factory() -> None:
    global _factory_installed
    if _factory_installed:
        return
    _factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _secrets:
            scrub(record)
        return record

    logging.setLogRecordFactory(factory)


class RedactingFilter(logging.Filter):
    """Applies `redact` to the fully formatted log message, arguments and traceback included (for records
    made without the record factory, e.g. by `logging.makeLogRecord`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub(record)
        return True


def reset() -> None:
    """Forget every secret; tests use it to start clean."""
    global _matcher
    _secrets.clear()
    _matcher = None
