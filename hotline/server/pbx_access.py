"""Where the hotline reaches its Asterisk: HOTLINE_ARI_* (and the WebRTC settings) when set,
else the sandbox of this $HOTLINE_HOME."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from hotline.config import Settings, ari_explicitly_set
from hotline.errors import ConfigError
from hotline.sandbox.instance import Sandbox


@dataclass(frozen=True)
class PbxAccess:
    ari_url: str
    ari_user: str
    ari_password: str = field(repr=False)
    prompts: str  # the prompts folder as Asterisk sees it
    sip_ws_url: str = ""  # PJSIP's WebSocket transport, for browsers ('' : no softphone)
    dtls_cert: str = ""  # as Asterisk sees them ('' : Asterisk generates one per endpoint)
    dtls_key: str = ""
    try_password: str = field(default="", repr=False)  # the /try caller (sandbox only)
    sandbox: bool = False

    @property
    def sip_ws_origin(self) -> str:
        """scheme://host:port of the WebSocket (the pages' Content-Security-Policy)."""
        url = urlparse(self.sip_ws_url)
        return f"{url.scheme}://{url.netloc}" if url.scheme else ""

    @property
    def sip_domain(self) -> str:
        """The SIP domain browsers register in: the WebSocket's host."""
        return urlparse(self.sip_ws_url).hostname or "localhost"


def resolve_pbx(settings: Settings) -> PbxAccess:
    prompts = settings.asterisk_prompts_dir or str(settings.prompts_dir.resolve())
    if ari_explicitly_set(settings):
        if not (settings.ari_url and settings.ari_user and settings.ari_password):
            raise ConfigError("HOTLINE_ARI_URL", settings.ari_url,
                              "set HOTLINE_ARI_URL, HOTLINE_ARI_USER and HOTLINE_ARI_PASSWORD")
        return PbxAccess(settings.ari_url, settings.ari_user, settings.ari_password, prompts,
                         settings.sip_ws_url, settings.dtls_cert, settings.dtls_key)
    state = Sandbox(settings).load_state()
    if state is None:
        raise ConfigError("HOTLINE_ARI_URL", "", "not set, and no sandbox here: run "
                          "`hotline sandbox up` or point HOTLINE_ARI_* at your Asterisk")
    cert, key = state.dtls_files
    return PbxAccess(state.ari_url, state.ari_user, state.ari_password,
                     settings.asterisk_prompts_dir or state.sounds_in_asterisk,
                     settings.sip_ws_url or state.sip_ws_url, cert, key, state.try_password,
                     sandbox=True)
