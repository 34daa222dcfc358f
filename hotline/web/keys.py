"""Typed application keys for the resources the web handlers use."""

from __future__ import annotations

from aiohttp import web

from hotline.server.services import Services

SERVICES = web.AppKey("services", Services)
