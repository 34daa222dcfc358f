"""Prompt audio: the phrasebook rendered to 8 kHz and 16 kHz files Asterisk can play."""
