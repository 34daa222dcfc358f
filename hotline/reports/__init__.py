"""Supervisor reports: the monthly ledger (台账) and its statistics."""
