"""The call flow's and the attendant's settings, read off the hotline's Settings (one place
for the phone flow and the text channel)."""

from __future__ import annotations

from hotline.attendant.call import AttendantSettings
from hotline.calls.context import FlowSettings
from hotline.config import Settings


def flow_settings(s: Settings) -> FlowSettings:
    return FlowSettings(
        ring_on_s=s.ring_on_s, ring_off_s=s.ring_off_s, ring_budget=s.ring_budget,
        silence_prompt_s=s.silence_prompt_s, seat_ring_s=s.seat_ring_s,
        seat_fault_offer_s=s.seat_fault_offer_s, keep_alive_s=s.keep_alive_s, node=s.node,
        seat_proxy=s.seat_proxy)


def attendant_settings(s: Settings) -> AttendantSettings:
    return AttendantSettings(
        job_number=s.attendant_job_number, goodbye_pause_s=s.goodbye_pause_s,
        caller_hangup_wait_s=s.caller_hangup_wait_s, rating_wait_s=s.rating_wait_s,
        keep_alive_s=s.keep_alive_s, message_max_s=s.message_max_s,
        apology_after_rings=s.apology_after_rings,
        emergency_lines={line: dial for line in ("110", "119", "120", "122")
                         if (dial := getattr(s, f"emergency_{line}"))},
        out_of_scope=tuple(w.strip() for w in s.out_of_scope.split(",") if w.strip()),
        recording_notice=recording_notice(s))


def recording_notice(s: Settings) -> bool:
    """HOTLINE_RECORDING_NOTICE: auto says it exactly when calls are recorded."""
    return s.recording_notice == "yes" or (s.recording_notice == "auto"
                                           and s.record_calls == "yes")
