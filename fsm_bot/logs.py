"""Logging set-up: readable lines by default, JSON lines for log collectors, secrets never shown.

Redaction happens in a filter on every handler rather than at call sites, because the places
that leak tokens are the ones nobody thinks of: a requests exception whose text contains the
URL with `access_token=...`, or a vk_api error that echoes request parameters.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

REDACTED = "***"
# Shorter "secrets" would blank out ordinary words in every line; real VK tokens are ~85 characters.
MIN_SECRET_LENGTH = 6

# access_token=..., "access_token": "...", Authorization: Bearer ... in any text we did not write.
_TOKEN_PATTERNS = (
    re.compile(r"(access_token[\"']?\s*[=:]\s*[\"']?)([^&\s\"',;}]+)", re.IGNORECASE),
    re.compile(r"(Bearer\s+)([A-Za-z0-9._\-]+)", re.IGNORECASE),
    # The Long Poll key rides in the poll URL (urllib3 logs it at DEBUG); it is as good as a token.
    re.compile(r"([?&]key=)([^&\s\"']+)", re.IGNORECASE),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Hide known secrets and anything shaped like a token parameter."""
    for secret in secrets:
        if len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Renders each record once, redacted, so no formatter can put a secret back."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        # The traceback text is kept (redacted); the live exception could be re-rendered unredacted.
        record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log shippers (Loki, ELK) parse without regexes."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        for key in ("event_id", "user_id", "peer_id", "error_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Replace the root handlers with one stderr handler that redacts and formats."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # urllib3 logs full URLs (with access_token in GET queries) at DEBUG; keep it quieter.
    logging.getLogger("urllib3").setLevel(max(logging.INFO, logging.getLevelName(level)))
    # Alembic narrates every migration context at INFO; our own line says which revision we reached.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler logs every job run at INFO; the jobs log what they did themselves.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # transitions narrates every state change at INFO (several lines per dialog step, per person).
    logging.getLogger("transitions").setLevel(logging.WARNING)
