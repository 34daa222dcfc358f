"""The checks every setting passes at load (and at ``replace``): each bad one is a
ConfigError naming the HOTLINE_* variable and the value, with what it should be."""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.domain.appraisal import parse_daily_weights
from hotline.domain.loop.limits import parse_by_matter, parse_urgent
from hotline.domain.retention import parse_retention
from hotline.domain.workdays import parse_dates
from hotline.errors import ConfigError

if TYPE_CHECKING:
    from hotline.config import Settings

_SECRET_KEYS = {"ari_password", "metrics_token"}
_URL_PASSWORD = re.compile(r"(?P<head>://[^/@:]*:)[^/@]*@")


def hide_password(url: str) -> str:
    """A URL as it may be shown: 'postgresql+asyncpg://u:secret@h/db' -> '...//u:***@h/db'."""
    return _URL_PASSWORD.sub(r"\g<head>***@", url)


def env_name(key: str) -> str:
    return "HOTLINE_" + key.upper()


def networks(value: str) -> list[str]:
    """'203.0.113.5, 198.51.100.0/24' -> ['203.0.113.5/32', '198.51.100.0/24'] (ValueError
    on anything else: a host name, a bad mask)."""
    return [str(ipaddress.ip_network(part.strip(), strict=False))
            for part in value.split(",") if part.strip()]



def validate(s: Settings) -> None:
    def bad(key: str, reason: str) -> ConfigError:
        value = "***" if key in _SECRET_KEYS else getattr(s, key)
        if isinstance(value, str) and key.endswith("_url"):
            value = hide_password(value)
        return ConfigError(env_name(key), value, reason)

    for key in ("console_port", "sandbox_http_port", "sandbox_sip_port",
                "sandbox_rtp_start", "sandbox_rtp_end"):
        if not 1 <= getattr(s, key) <= 65535:
            raise bad(key, "not a port number (1-65535)")
    if s.sandbox_rtp_end - s.sandbox_rtp_start < 10:
        raise bad("sandbox_rtp_end", "the RTP range needs at least 10 ports")
    for key in ("ring_on_s", "ring_off_s", "silence_prompt_s", "goodbye_pause_s",
                "caller_hangup_wait_s", "rating_wait_s", "shutdown_timeout_s", "seat_ring_s",
                "unattended_sweep_s", "keep_alive_s", "message_max_s",
                "seat_fault_offer_s", "seat_rtp_timeout_s", "seat_lease_s"):
        if not 0 <= getattr(s, key) <= 600:
            raise bad(key, "must be between 0 and 600 seconds")
    if s.outbound_trunk and "{number}" not in s.outbound_trunk:
        raise bad("outbound_trunk", "a dial string with {number} in it, e.g. "
                  "PJSIP/{number}@outbound")
    if re.search(r"[@/]public\b", s.outbound_trunk):
        raise bad("outbound_trunk", "never the public trunk: the public line is incoming "
                  "only (000: 只打进、不打出)")
    if not 1 <= s.callback_window_days <= 90:
        raise bad("callback_window_days", "must be between 1 and 90 days")
    if s.record_calls not in ("yes", "no"):
        raise bad("record_calls", "yes or no")
    try:
        parse_retention(s.retention_days)
    except ValueError as exc:
        raise bad("retention_days", str(exc)) from None
    if not 60 <= s.retention_sweep_s <= 7 * 86400:
        raise bad("retention_sweep_s", "between 60 s and a week")
    if s.recording_notice not in ("auto", "yes", "no"):
        raise bad("recording_notice", "auto (when calls are recorded), yes or no")
    if s.recording_notice == "no" and s.record_calls == "yes":
        raise bad("recording_notice", "callers must be told their calls are recorded: no "
                  "only with HOTLINE_RECORD_CALLS=no")
    for key in ("complaint_days", "callback_days", "message_days", "referral_days"):
        if not 0 <= getattr(s, key) <= 60:
            raise bad(key, "must be between 0 and 60 working days")
    for key, low, high in (("unit_reply_days", 0, 60), ("follow_up_share", 0, 100)):
        try:
            parse_by_matter(getattr(s, key), env_name(key), low, high)
        except ValueError as exc:
            raise bad(key, str(exc)) from None
    try:
        parse_urgent(s.urgent_sign_minutes, env_name("urgent_sign_minutes"))
    except ValueError as exc:
        raise bad("urgent_sign_minutes", str(exc)) from None
    try:
        hh, mm = s.close_of_business.split(":")
        if not (0 <= int(hh) <= 23 and 0 <= int(mm) <= 59):
            raise ValueError
    except ValueError:
        raise bad("close_of_business", "not a time of day (HH:MM)") from None
    for key in ("local_days_off", "local_workdays"):
        try:
            parse_dates(getattr(s, key).split(","), env_name(key))
        except ValueError as exc:
            raise bad(key, str(exc)) from None
    if not 0 <= s.asr_threads <= 256:
        raise bad("asr_threads", "must be between 0 (automatic) and 256")
    if not 60 <= s.asr_end_ms <= 5000:
        raise bad("asr_end_ms", "must be between 60 and 5000 ms")
    if s.asr_engine not in ("", "whisper", "vosk"):
        raise bad("asr_engine", "whisper or vosk (or empty: chosen by the installed model)")
    if s.asr_device not in ("auto", "cpu", "cuda"):
        raise bad("asr_device", "auto, cpu or cuda")
    if not 1 <= s.asr_workers <= 64:
        raise bad("asr_workers", "must be between 1 and 64")
    if not 0 <= s.asr_no_speech_max <= 1:
        raise bad("asr_no_speech_max", "a probability between 0 and 1")
    if not -10 <= s.asr_logprob_min <= 0:
        raise bad("asr_logprob_min", "a log-probability between -10 and 0")
    if not 0 <= s.appraisal_satisfaction_weight <= 1:
        raise bad("appraisal_satisfaction_weight", "a share between 0 and 1 (004: 0.5)")
    try:
        if sum(parse_daily_weights(s.appraisal_daily_weights).values()) <= 0:
            raise ValueError("the weights add up to 0")
    except ValueError as exc:
        raise bad("appraisal_daily_weights", str(exc)) from None
    if s.appraisal_handle_target_s <= 0 or s.appraisal_duty_hours < 0:
        raise bad("appraisal_handle_target_s" if s.appraisal_handle_target_s <= 0
                  else "appraisal_duty_hours", "must be more than 0")
    if s.appraisal_complaint_points < 0 or s.appraisal_phrase_points < 0:
        raise bad("appraisal_complaint_points" if s.appraisal_complaint_points < 0
                  else "appraisal_phrase_points", "must be 0 or more")
    if not 0 < s.first_contact_window_h <= 24 * 90:
        raise bad("first_contact_window_h", "must be between 0 and 2160 hours")
    if s.ring_on_s + s.ring_off_s <= 0:
        raise bad("ring_off_s", "a ring cycle must last longer than 0 s")
    if not 1 <= s.ring_budget <= 10:
        raise bad("ring_budget", "must be between 1 and 10 rings")
    if s.ari_url:
        u = urlparse(s.ari_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise bad("ari_url", "must be an http(s) URL such as http://127.0.0.1:8088/ari")
    if s.sip_ws_url and urlparse(s.sip_ws_url).scheme not in ("ws", "wss"):
        raise bad("sip_ws_url", "must be a ws:// or wss:// URL such as wss://pbx.example/ws")
    for key in ("trunk_match", "operator_networks"):
        try:
            if not networks(getattr(s, key)):
                raise ValueError("empty")
        except ValueError as exc:
            raise bad(key, f"a comma-separated list of addresses or networks such as "
                           f"203.0.113.5,198.51.100.0/24 ({exc})") from None
    try:
        re.compile(s.transfer_pattern)
    except re.error as exc:
        raise bad("transfer_pattern", f"not a regular expression: {exc}") from None
    if not 0 <= s.inspection_sample <= 100:
        raise bad("inspection_sample", "must be between 0 and 100 calls per operator a month")
    if not 1 <= s.inspection_low_rating <= 5:
        raise bad("inspection_low_rating", "a rating between 1 and 5")
    if s.seat_nat not in ("yes", "no"):
        raise bad("seat_nat", "yes or no")
    if s.try_page not in ("auto", "yes", "no"):
        raise bad("try_page", "auto (sandbox only), yes or no")
    if s.db_url and not s.db_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise bad("db_url", "must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad("timezone", "not a known time zone such as Asia/Shanghai") from None
    if s.log_format not in ("text", "json"):
        raise bad("log_format", "text or json")
    if s.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise bad("log_level", "must be DEBUG, INFO, WARNING or ERROR")
    if not s.unit_name.strip():
        raise bad("unit_name", "must not be empty")
    if s.seat_ring_s < 1:
        raise bad("seat_ring_s", "a seat must ring for at least 1 s")
    if not s.sip_realm.replace("-", "").replace(".", "").isalnum():
        raise bad("sip_realm", "letters, digits, '.' and '-' only")
    if s.journal_max_mb < 1:
        raise bad("journal_max_mb", "the journal needs at least 1 MB")
    for key in ("emergency_110", "emergency_119", "emergency_120", "emergency_122"):
        dial = getattr(s, key)
        if dial and not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*/[^\s,]+", dial):
            raise bad(key, "a dial string such as PJSIP/119@pstn (technology/resource)")
    if not s.attendant_job_number.isdigit():
        raise bad("attendant_job_number", "a job number is digits only")
    if bool(s.tls_cert) != bool(s.tls_key):
        raise bad("tls_key" if s.tls_cert else "tls_cert",
                  "set both HOTLINE_TLS_CERT and HOTLINE_TLS_KEY, or neither")
    if not 60 <= s.session_idle_s <= 86400:
        raise bad("session_idle_s", "must be between 60 and 86400 seconds")
    if not 300 <= s.session_absolute_s <= 7 * 86400:
        raise bad("session_absolute_s", "must be between 300 seconds and 7 days")
    if s.session_idle_s > s.session_absolute_s:
        raise bad("session_idle_s", "must not be longer than HOTLINE_SESSION_ABSOLUTE_S")
    for part in (p.strip() for p in s.trusted_proxies.split(",")):
        try:
            if part:
                ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise bad("trusted_proxies", f"{part!r} is not an IP address or network "
                                         "(e.g. 10.0.0.5, 192.168.1.0/24)") from None
