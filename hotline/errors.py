"""The rooted exception tree: every error the hotline raises on purpose is a HotlineError."""

from __future__ import annotations


class HotlineError(Exception):
    """Root of all hotline errors. The CLI prints these without a traceback."""


class ConfigError(HotlineError):
    """A configuration key has a bad value."""

    def __init__(self, key: str, value: object, reason: str) -> None:
        self.key, self.value, self.reason = key, value, reason
        super().__init__(f"configuration {key}={value!r}: {reason}")


class SandboxError(HotlineError):
    """The Asterisk sandbox could not be built, started or stopped."""


class TelephonyError(HotlineError):
    """Talking to the PBX failed."""


class AriError(TelephonyError):
    """An ARI REST call answered with an error status."""

    def __init__(self, method: str, path: str, status: int, detail: str = "") -> None:
        self.method, self.path, self.status, self.detail = method, path, status, detail
        super().__init__(f"ARI {method} {path} -> {status} {detail}".rstrip())


class AriNotFound(AriError):
    """The channel, bridge or playback no longer exists (often: the caller hung up)."""


class AriUnavailable(TelephonyError):
    """ARI cannot be reached at all."""


class LegGone(Exception):
    """A call leg (an operator's seat, a department, an emergency line) has hung up. Raised
    by any await on that leg; the step in progress handles it as an outcome. Deliberately
    not a HotlineError: a hang-up is not a failure (asyncari's ChannelExit)."""

    def __init__(self, channel_id: str) -> None:
        self.channel_id = channel_id
        super().__init__(f"channel {channel_id} hung up")


class CallerGone(LegGone):
    """The caller's own leg is gone: the only thing that ends the attendant's script."""


class PhrasebookError(HotlineError):
    """The phrasebook file is malformed; names the line and the problem."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")


class PromptRenderError(HotlineError):
    """Text-to-speech or audio conversion failed."""


class StoreError(HotlineError):
    """The database could not be reached or refused a write."""


class StoreUnavailable(StoreError):
    """The database cannot be reached now: connection refused or reset, a timeout, the pool
    exhausted. Worth waiting out (the flow journals its writes meanwhile)."""


class StoreDataError(StoreError):
    """The database refused this write for what it holds (a value too long for its column, a
    constraint): a bug, which waiting will not mend."""


class NotFoundError(HotlineError):
    """A record, ticket or user asked for does not exist."""


class SpeechModelError(HotlineError):
    """A Vosk model folder is missing, incomplete, or failed to download or verify."""
