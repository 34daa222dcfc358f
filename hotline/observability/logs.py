"""Structured logs: one JSON object a line (HOTLINE_LOG_FORMAT=json), with callers' numbers
masked like every other log line (privacy.MaskingFilter runs first)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"at": datetime.fromtimestamp(record.created, UTC).isoformat(),
                 "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage()}
        for key in ("call_id", "channel", "job_number"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_text:  # masked by privacy.MaskingFilter
            entry["error"] = record.exc_text
        elif record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
