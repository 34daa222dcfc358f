"""Masking of callers' personal data for logs and for views outside the call in hand."""

from __future__ import annotations

import logging
import re


def mask_number(number: str) -> str:
    """'13900000001' -> '139****0001'; short numbers keep only their last two digits."""
    digits = number.strip()
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_name(name: str) -> str:
    """'张三丰' -> '张**'."""
    return name[:1] + "*" * (len(name) - 1) if name else ""


_LONG_DIGITS = re.compile(r"(?<!\d)(\d{3})\d{4,}(\d{4})(?!\d)")


class MaskingFilter(logging.Filter):
    """Masks any 11+-digit run (phone numbers) that reaches a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _LONG_DIGITS.sub(r"\1****\2", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
