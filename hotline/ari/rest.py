"""Typed wrappers for the ARI REST endpoints the hotline uses (channels, bridges, playbacks,
recordings, snoop, externalMedia, dynamic configuration)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import quote

import aiohttp

from hotline.ari.events import Channel
from hotline.errors import AriError, AriNotFound, AriUnavailable, TelephonyError

JSON = Any
HANGUP_TRIES = 3


NEW_CHANNEL_PAUSES_S = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8)


class AriRest:
    def __init__(self, base_url: str, user: str, password: str,
                 session: aiohttp.ClientSession | None = None, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": basic_auth(user, password)}
        self._own_session = session is None
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def __aenter__(self) -> AriRest:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                      body: JSON = None) -> JSON:
        clean = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        url = self.base_url + path
        try:
            async with self._client().request(method, url, params=clean, json=body,
                                              headers=self._headers) as resp:
                text = await resp.text()
                if resp.status == 404:
                    raise AriNotFound(method, path, resp.status, _detail(text))
                if resp.status >= 400:
                    raise AriError(method, path, resp.status, _detail(text))
                if not text:
                    return None
                try:
                    return json.loads(text)
                except ValueError:
                    return text
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise AriUnavailable(f"ARI {method} {url}: {exc or type(exc).__name__}") from exc

    async def request_bytes(self, method: str, path: str) -> bytes:
        """A binary resource (a stored recording's audio)."""
        url = self.base_url + path
        try:
            async with self._client().request(method, url, headers=self._headers) as resp:
                data = await resp.read()
                if resp.status == 404:
                    raise AriNotFound(method, path, resp.status)
                if resp.status >= 400:
                    raise AriError(method, path, resp.status, _detail(data.decode(
                        errors="replace")))
                return data
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise AriUnavailable(f"ARI {method} {url}: {exc or type(exc).__name__}") from exc

    # -- asterisk ---------------------------------------------------------------------------
    async def asterisk_info(self) -> dict[str, Any]:
        info = await self.request("GET", "/asterisk/info")
        return info if isinstance(info, dict) else {}

    async def put_dynamic_config(self, config_class: str, object_type: str, object_id: str,
                                 fields: dict[str, str]) -> JSON:
        body = {"fields": [{"attribute": k, "value": v} for k, v in fields.items()]}
        return await self.request(
            "PUT", f"/asterisk/config/dynamic/{config_class}/{object_type}/{quote(object_id)}",
            body=body)

    async def delete_dynamic_config(self, config_class: str, object_type: str,
                                    object_id: str) -> None:
        await self.request(
            "DELETE", f"/asterisk/config/dynamic/{config_class}/{object_type}/{quote(object_id)}")

    # -- channels ---------------------------------------------------------------------------
    async def list_channels(self) -> list[Channel]:
        data = await self.request("GET", "/channels")
        return [Channel.from_json(c) for c in data or [] if isinstance(c, dict) and "id" in c]

    async def get_channel(self, channel_id: str) -> Channel:
        return Channel.from_json(await self.request("GET", f"/channels/{channel_id}"))

    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/answer")

    async def ring(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/ring")

    async def ring_stop(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{channel_id}/ring")

    async def hangup(self, channel_id: str, reason: str = "normal",
                     tries: int = HANGUP_TRIES) -> None:
        """Hang a channel up. It is the one request that must not be lost (a leg left up
        holds a seat or a unit's line), so a failure is tried again; a channel already gone
        (404) is done."""
        for attempt in range(tries):
            try:
                await self.request("DELETE", f"/channels/{channel_id}",
                                   params={"reason": reason})
                return
            except AriNotFound:
                raise
            except TelephonyError:
                if attempt == tries - 1:
                    raise
                await asyncio.sleep(0.1 * 3 ** attempt)

    async def set_var(self, channel_id: str, name: str, value: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/variable",
                           params={"variable": name, "value": value})

    async def get_var(self, channel_id: str, name: str) -> str:
        data = await self.request("GET", f"/channels/{channel_id}/variable",
                                  params={"variable": name})
        return str(data.get("value", "")) if isinstance(data, dict) else ""

    async def play(self, channel_id: str, media: str | list[str],
                   playback_id: str | None = None) -> str:
        medias = [media] if isinstance(media, str) else media
        path = f"/channels/{channel_id}/play" + (f"/{playback_id}" if playback_id else "")
        data = await self.request("POST", path, params={"media": ",".join(medias)})
        return str(data["id"]) if isinstance(data, dict) and "id" in data else (playback_id or "")

    async def stop_playback(self, playback_id: str) -> None:
        await self.request("DELETE", f"/playbacks/{playback_id}")

    async def record(self, channel_id: str, name: str, fmt: str = "wav",
                     max_duration_s: int = 0, max_silence_s: int = 0,
                     terminate_on: str = "none") -> JSON:
        return await self.request("POST", f"/channels/{channel_id}/record", params={
            "name": name, "format": fmt, "maxDurationSeconds": max_duration_s,
            "maxSilenceSeconds": max_silence_s, "ifExists": "overwrite", "beep": False,
            "terminateOn": terminate_on})

    async def stop_recording(self, name: str) -> None:
        await self.request("POST", f"/recordings/live/{quote(name)}/stop")

    async def snoop(self, channel_id: str, app: str, spy: str = "in",
                    snoop_id: str | None = None, app_args: str = "",
                    whisper: str | None = None) -> Channel:
        """A snoop channel (into ``app``) on ``channel_id``: ``spy`` the audio it hears,
        ``whisper`` where what it is given goes (in, out, both; none when not given)."""
        return Channel.from_json(await self.request(
            "POST", f"/channels/{channel_id}/snoop",
            params={"app": app, "spy": spy, "whisper": whisper, "snoopId": snoop_id,
                    "appArgs": app_args}))

    async def external_media(self, app: str, external_host: str, fmt: str = "slin16",
                             channel_id: str | None = None, app_args: str = "") -> Channel:
        return Channel.from_json(await self.request("POST", "/channels/externalMedia", params={
            "app": app, "external_host": external_host, "format": fmt,
            "channelId": channel_id, "encapsulation": "rtp", "transport": "udp",
            "direction": "both", "data": app_args or None}))

    async def originate(self, endpoint: str, app: str, app_args: str = "",
                        channel_id: str | None = None, caller_id: str | None = None,
                        timeout_s: int = 30, variables: dict[str, str] | None = None) -> Channel:
        body = {"variables": variables} if variables else None
        return Channel.from_json(await self.request("POST", "/channels", params={
            "endpoint": endpoint, "app": app, "appArgs": app_args, "channelId": channel_id,
            "callerId": caller_id, "timeout": timeout_s}, body=body))

    # -- bridges ----------------------------------------------------------------------------
    async def create_bridge(self, bridge_type: str = "mixing", name: str = "",
                            bridge_id: str | None = None) -> str:
        data = await self.request("POST", "/bridges", params={
            "type": bridge_type, "name": name or None, "bridgeId": bridge_id})
        return str(data["id"]) if isinstance(data, dict) else ""

    async def list_bridges(self) -> list[dict[str, Any]]:
        data = await self.request("GET", "/bridges")
        return [b for b in data or [] if isinstance(b, dict)]

    async def add_to_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self.request("POST", f"/bridges/{bridge_id}/addChannel",
                           params={"channel": channel_id})

    async def add_new_to_bridge(self, bridge_id: str, channel_id: str) -> None:
        """add_to_bridge for a channel just made (a snoop, an externalMedia channel): it
        enters Stasis a moment after the request that made it returns, and until then
        Asterisk answers 422 "Channel not in Stasis application" (seen on a loaded machine).
        Tried again for up to about 1.5 s."""
        for pause in (*NEW_CHANNEL_PAUSES_S, None):
            try:
                await self.add_to_bridge(bridge_id, channel_id)
                return
            except AriError as exc:
                if exc.status != 422 or pause is None:
                    raise
                await asyncio.sleep(pause)

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self.request("POST", f"/bridges/{bridge_id}/removeChannel",
                           params={"channel": channel_id})

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{bridge_id}")

    async def list_applications(self) -> list[dict[str, Any]]:
        data = await self.request("GET", "/applications")
        return [a for a in data or [] if isinstance(a, dict)]


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _detail(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text[:200]
    return str(data.get("message", text))[:200] if isinstance(data, dict) else text[:200]
