"""Settings: defaults, then $HOTLINE_HOME/hotline.toml, then HOTLINE_* environment variables.

Every option has a typed default; each is validated at load and a bad one raises ConfigError
naming the key and the value, e.g. ``HOTLINE_CONSOLE_PORT='abc': not an integer``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from hotline.config_checks import env_name, hide_password, networks, validate
from hotline.directory.records import DEFAULT_TRANSFER_PATTERN
from hotline.domain.appraisal import DEFAULT_DAILY
from hotline.errors import ConfigError

__all__ = ["ConfigError", "Settings", "ari_explicitly_set", "env_name", "hide_password",
           "load_settings", "networks", "replace", "validate"]


@dataclass(frozen=True)
class Settings:
    home: Path = Path("var")
    db_url: str = ""  # default: sqlite+aiosqlite in $HOTLINE_HOME
    ari_url: str = ""  # default: the sandbox's, if it is up
    ari_user: str = ""
    ari_password: str = field(default="", repr=False)
    ari_app: str = "hotline"
    home_district: str = ""
    console_host: str = "127.0.0.1"
    console_port: int = 8080
    unit_name: str = "12345便民服务热线"
    attendant_job_number: str = "9000"
    public_number: str = "12345"
    ring_on_s: float = 1.0
    ring_off_s: float = 4.0
    ring_budget: int = 3  # answer by the end of this ring
    apology_after_rings: int = 5
    silence_prompt_s: float = 3.0
    goodbye_pause_s: float = 2.0
    caller_hangup_wait_s: float = 5.0  # after goodbye, wait this long for the caller to hang up
    rating_wait_s: float = 6.0
    keep_alive_s: float = 3.0  # during a slow search, the keep-alive phrase this often
    message_max_s: float = 60.0  # the longest words taken down for a callback
    seat_ring_s: float = 5.0  # how long one seat rings before the next (A post, then B posts)
    seat_fault_offer_s: float = 15.0  # after a seat fault, how long to look for another seat
    seat_rtp_timeout_s: int = 15  # an operator leg with no audio this long is a seat fault
    sip_realm: str = "hotline"
    vosk_model: str = ""  # a Vosk model folder; empty: speech steps go to an operator
    vosk_grammar: str = ""  # a phrase list (one per line) to restrict recognition to; empty: open
    vosk_models_url: str = "https://alphacephei.com/vosk/models"  # for `hotline asr fetch`
    asr_threads: int = 0  # recogniser threads; 0: two per core
    # whisper | vosk; empty: vosk if HOTLINE_VOSK_MODEL is set, else whisper with the
    # installed base model ($HOTLINE_HOME/models/whisper-base); neither: speech to operators
    asr_engine: str = ""
    asr_model: str = ""  # the engine's model folder; empty: as above
    asr_device: str = "auto"  # whisper: cpu, cuda or auto (a GPU where there is one)
    asr_workers: int = 1  # whisper: utterances decoded at once (each on its share of cores)
    asr_no_speech_max: float = 0.6  # whisper: drop a segment this likely silence...
    asr_logprob_min: float = -1.0  # ...if its average log-probability is also below this
    whisper_models_url: str = "https://huggingface.co"  # for `hotline asr fetch whisper-*`
    asr_end_ms: int = 220  # trailing silence that ends a caller's utterance
    prompts_voice: str = "cmn-latn-pinyin"
    asterisk_prompts_dir: str = ""  # where Asterisk sees $HOTLINE_HOME/prompts (production)
    node: str = ""  # this controller's name when several share one database
    # host:port of the cluster's SIP proxy (Kamailio), where operators' phones register:
    # seats are then rung through it, so any node rings any seat; empty: this Asterisk's own
    seat_proxy: str = ""
    seat_lease_s: float = 30.0  # a seat claim lapses this long after its node last renewed it
    sandbox_http_port: int = 8088
    sandbox_sip_port: int = 5060
    sandbox_rtp_start: int = 10000
    sandbox_rtp_end: int = 10199
    shutdown_timeout_s: float = 10.0
    journal: str = ""  # where record writes wait for the database; "": $HOTLINE_HOME/journal/
    journal_max_mb: int = 256  # the journal's bound: writes past it are refused (and counted)
    unattended_sweep_s: float = 30.0  # how often calls answered while no controller was up
                                      # are looked for (besides at every reconnect)
    record_calls: str = "yes"  # yes: every answered call is recorded (both directions)
    recording_notice: str = "auto"  # 录音提示 before the opening: auto = when calls are recorded
    # days kept after a record is closed (domain/retention.py); one number: all three
    retention_days: str = "recordings=180,transcripts=365,callers=365"
    retention_sweep_s: float = 86400.0  # how often `serve` runs the retention sweep
    close_of_business: str = "17:30"  # tickets fall due at this time of their last day
    local_days_off: str = ""  # comma-separated ISO dates off on top of the national calendar
    local_workdays: str = ""  # comma-separated ISO dates worked on top of it
    complaint_days: int = 2  # working days to answer (003 文明服务制: 2)
    callback_days: int = 1
    message_days: int = 1
    referral_days: int = 5
    # the operators' monthly appraisal (004 篇5; hotline/domain/appraisal.py)
    appraisal_satisfaction_weight: float = 0.5  # the rest (1 - this) is daily work
    appraisal_daily_weights: str = DEFAULT_DAILY  # PART=WEIGHT for each daily-work part
    appraisal_handle_target_s: float = 300.0  # a mean handling time up to this scores 100
    appraisal_duty_hours: float = 160.0  # hours on duty a month for full marks
    appraisal_complaint_points: float = 10.0  # taken off per complaint against an operator
    appraisal_phrase_points: float = 5.0  # taken off per forbidden phrase flagged
    first_contact_window_h: float = 72.0  # a repeat call or ticket within this: not resolved
    # the loop with the handling units (hotline/domain/loop/limits.py)
    urgent_sign_minutes: str = "life=15,utility=30"  # 急件签收, clock minutes
    unit_reply_days: str = ""  # e.g. complaint=15,request=10: working days a unit has to reply
    follow_up_share: str = ""  # e.g. request=30: percent followed up (complaints 100)
    # the emergency lines (000 与110、120的联动): a dial string each (PJSIP/110@pstn);
    # empty: the attendant cannot put the caller through and tells them to dial it
    emergency_110: str = ""
    emergency_119: str = ""
    emergency_120: str = ""
    emergency_122: str = ""
    # the operators' outbound calls (callbacks, follow-ups): a dial string with {number}
    # (PJSIP/{number}@outbound); empty: no outbound calls. Never the public trunk.
    outbound_trunk: str = ""
    callback_window_days: int = 7  # missed calls this recent are on the callback list
    out_of_scope: str = "推销,贷款,彩票,股票"  # comma-separated words of matters not ours
    log_level: str = "INFO"
    log_format: str = "text"  # or json: one object a line, for a log shipper
    metrics_token: str = field(default="", repr=False)  # /metrics from off the machine
    timezone: str = "Asia/Shanghai"
    # WebRTC (the console's softphone, /try): where browsers reach Asterisk's PJSIP WebSocket
    # transport, and the DTLS certificate as Asterisk sees it (empty: Asterisk makes one).
    # The sandbox fills all three in itself.
    sip_ws_url: str = ""
    dtls_cert: str = ""
    dtls_key: str = ""
    try_page: str = "auto"  # /try, dialling the hotline from the browser: auto = sandbox only
    # The console over HTTPS: a PEM certificate (chain) and its key; both empty: plain HTTP
    tls_cert: str = ""
    tls_key: str = ""
    session_idle_s: float = 1800.0  # a console session ends after this long without a request
    session_absolute_s: float = 28800.0  # ... and this long after login, whatever happens
    trusted_proxies: str = ""  # comma-separated addresses/networks whose X-Forwarded-For counts
    # The SIP edge (issue 15). Comma-separated addresses or networks (CIDR).
    trunk_match: str = "127.0.0.1"  # the carrier's gateways: only they reach context public
    operator_networks: str = "127.0.0.1/32"  # where operators' phones and browsers may be
    transfer_pattern: str = DEFAULT_TRANSFER_PATTERN  # what a directory row may dial
    # quality inspection (质检): random calls proposed per operator per month, besides every
    # call with a complaint or a rating at or below inspection_low_rating; the checklist
    # file (empty: the shipped hotline/inspection/default_checklist.yaml)
    inspection_sample: int = 3
    inspection_low_rating: int = 2
    inspection_checklist: str = ""
    seat_nat: str = "no"  # yes: SIP-phone seats are behind NAT (symmetric RTP, rport);
                          # browser seats always are

    @property
    def effective_db_url(self) -> str:
        return self.db_url or f"sqlite+aiosqlite:///{(self.home / 'hotline.db').resolve()}"

    @property
    def journal_path(self) -> Path:
        return Path(self.journal) if self.journal else (
            self.home / "journal" / "calls.jsonl").resolve()

    @property
    def directory_index_path(self) -> Path:
        """The saved directory index: beside a SQLite database file, else in the home."""
        url = self.effective_db_url
        if url.startswith("sqlite") and ":///" in url and not url.endswith(":memory:"):
            return Path(url.split(":///", 1)[1] + ".directory-index")
        return (self.home / "directory.index").resolve()

    @property
    def prompts_dir(self) -> Path:
        return self.home / "prompts"


def _coerce(key: str, raw: Any, kind: Any) -> Any:
    name = env_name(key)
    if kind is int or kind == "int":
        if isinstance(raw, bool):
            raise ConfigError(name, raw, "not an integer")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(name, raw, "not an integer") from None
    if kind is float or kind == "float":
        if isinstance(raw, bool):
            raise ConfigError(name, raw, "not a number")
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ConfigError(name, raw, "not a number") from None
    if kind is Path or kind == "Path":
        if not isinstance(raw, str | Path) or str(raw) == "":
            raise ConfigError(name, raw, "not a path")
        return Path(raw)
    if not isinstance(raw, str):
        raise ConfigError(name, raw, "not a string")
    return raw


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from defaults, the TOML file and the environment, and validate."""
    env = os.environ if env is None else env
    home = Path(env.get("HOTLINE_HOME") or "var")
    values: dict[str, Any] = {"home": home}
    known = {f.name: f for f in fields(Settings)}
    toml_path = home / "hotline.toml"
    if toml_path.exists():
        try:
            data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(str(toml_path), "", f"not valid TOML: {exc}") from None
        for key, raw in data.items():
            if key not in known or key == "home":
                raise ConfigError(f"{toml_path}:{key}", raw, "unknown option")
            values[key] = _coerce(key, raw, known[key].type)
    for key, f in known.items():
        name = env_name(key)
        if key != "home" and name in env:
            values[key] = _coerce(key, env[name], f.type)
    settings = Settings(**values)
    validate(settings)
    return settings


def replace(settings: Settings, **changes: Any) -> Settings:
    new = dataclasses.replace(settings, **changes)
    validate(new)
    return new


def ari_explicitly_set(settings: Settings, env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return bool(settings.ari_url) or any(
        k in env for k in ("HOTLINE_ARI_URL", "HOTLINE_ARI_USER", "HOTLINE_ARI_PASSWORD"))
