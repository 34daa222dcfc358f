"""Callback tickets: the working-day calendar from settings, and the `hotline tickets` CLI."""
