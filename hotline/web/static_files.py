"""Where the console's static files are: its scripts, and SIP.js vendored at build time
(scripts/vendor_js.py)."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).with_name("static")
