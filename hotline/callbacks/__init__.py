"""Missed calls and the operator's outbound calls (漏接回拨; 回访 by phone): the callback list
derived from the call records, one-click calls through the outbound trunk, and each
attempt's outcome."""
