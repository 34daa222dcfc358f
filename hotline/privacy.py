"""Masking of callers' personal data for logs and for views outside the call in hand."""

from __future__ import annotations

import logging
import re


def mask_number(number: str) -> str:
    """'13900000001' -> '139****0001' (11 digits or more: the prefix and the last four stay);
    a shorter number keeps only its last two digits: '58001234' -> '******34' (a local
    number's first three and last four would be nearly all of it)."""
    digits = number.strip()
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_name(name: str) -> str:
    """'张三丰' -> '张**'."""
    return name[:1] + "*" * (len(name) - 1) if name else ""


# A run of 7 or more digits (a local number has 7 or 8, a mobile 11, with an area code or
# +86 up to 14) is a phone number: masked. Shorter runs are not: job numbers (9000), ports,
# years, durations. Ids are not either, where the word before says it is one ("call 1234567",
# "record=1234567", "ticket #1234567", "id 1234567"): a record's id grows past 7 digits in
# a busy year, and the logs must still name it.
_NUMBER = re.compile(r"(?P<id>\b(?:call|record|ticket|id)\s?[=:#]?\s?|#)?(?<![\d.])"
                     r"(?P<number>\d{7,})(?!\d)", re.IGNORECASE)


def mask_text(text: str) -> str:
    """Every phone number in a line of text masked (see _NUMBER for the rule)."""
    return _NUMBER.sub(lambda m: m.group(0) if m.group("id")
                       else mask_number(m.group("number")), text)


class MaskingFilter(logging.Filter):
    """Masks the phone numbers that reach a log line: in the message, in the traceback of an
    exception logged with it (whose text often carries the caller's number) and in a stack
    trace. Runs before any formatter (text or JSON), which then uses the masked text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True
