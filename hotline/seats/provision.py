"""Operator seats as PJSIP endpoints, pushed into a running Asterisk through ARI's dynamic
configuration (/asterisk/config/dynamic/res_pjsip/...), with no reload.

Each seat is three sorcery objects named by the job number: an endpoint (context
``operators``), an AOR (one contact; a static one for desk phones) and an MD5 digest auth.
A seat whose phone is the console's softphone gets a WebRTC endpoint (``webrtc=yes``).

Pushing is idempotent: the endpoint carries a fingerprint of everything pushed for the seat
in its ``voicemail_extension`` (``hotline-<hash>``: the hotline gives seats no mailboxes, so
Asterisk never sends them MWI, where the field would be used; it is one Asterisk returns as
given, which ``set_var`` is not), and a push whose fingerprint the endpoint already has
changes nothing. A seat is pushed by whoever changes it (the CLI, the console) and again by
every node's seat-sync (hotline/seats/sync.py); re-creating the AOR and endpoint each time
would drop, for an instant, a phone that had just registered (a browser softphone was
refused its call that way).
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlparse

from hotline.ari.rest import AriRest
from hotline.domain.seats import BROWSER_PHONE, SeatConfig
from hotline.errors import AriNotFound, TelephonyError
from hotline.store.models import Operator

log = logging.getLogger(__name__)

# a seat as the database gives it: the whole row, or only what its PJSIP objects are made of
SeatRow = Operator | SeatConfig

FINGERPRINT = "voicemail_extension"  # the endpoint's record of what was pushed for the seat
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_password(length: int = 16) -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def sip_digest(job_number: str, realm: str, password: str) -> str:
    """HA1 of RFC 2617 digest: what Asterisk's ``md5_cred`` holds; the password is not kept."""
    return hashlib.md5(f"{job_number}:{realm}:{password}".encode()).hexdigest()


@dataclass(frozen=True)
class SeatProvisioner:
    rest: AriRest
    realm: str
    rtp_timeout_s: int
    media_address: str = ""
    dtls: tuple[str, str] = ("", "")  # certificate and key for browser seats, as Asterisk sees
    # the operators' networks (HOTLINE_OPERATOR_NETWORKS): a seat is refused from elsewhere
    networks: tuple[str, ...] = ("127.0.0.1/32",)
    nat: bool = False  # HOTLINE_SEAT_NAT: SIP-phone seats behind NAT

    @classmethod
    def for_ari(cls, rest: AriRest, ari_url: str, realm: str, rtp_timeout_s: int,
                dtls: tuple[str, str] = ("", ""), networks: tuple[str, ...] = ("127.0.0.1/32",),
                nat: bool = False) -> SeatProvisioner:
        """Keep the seats' RTP on loopback when Asterisk itself is on loopback (the sandbox)."""
        host = urlparse(ari_url).hostname or ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        return cls(rest, realm, rtp_timeout_s, "127.0.0.1" if loopback else "", dtls,
                   networks, nat)

    def endpoint_fields(self, op: SeatRow) -> dict[str, str]:
        fields = {
            "context": "operators", "disallow": "all", "allow": "ulaw,alaw,g722,opus",
            "auth": op.job_number, "aors": op.job_number, "direct_media": "no",
            "dtmf_mode": "rfc4733", "rtp_timeout": str(self.rtp_timeout_s),
            "callerid": f"{op.job_number} <{op.job_number}>",
            # the endpoint's ACL: denied everywhere, then permitted on the operators' networks
            # (Asterisk answers 403 to a REGISTER or INVITE from anywhere else)
            "deny": "0.0.0.0/0.0.0.0,::/0", "permit": ",".join(self.networks),
        }
        browser = op.phone == BROWSER_PHONE
        if browser or self.nat:  # NAT: answer where the packets come from, not the SDP
            fields.update({"rtp_symmetric": "yes", "force_rport": "yes",
                           "rewrite_contact": "yes"})
        if self.media_address:
            fields["media_address"] = self.media_address
            fields["bind_rtp_to_media_address"] = "yes"
        if browser:  # the console's softphone: WebRTC (DTLS-SRTP, ICE, AVPF)
            fields.update({"webrtc": "yes", "allow": "opus,ulaw,alaw"})
            cert, key = self.dtls
            if cert and key:
                fields.update({"dtls_cert_file": cert, "dtls_private_key": key})
            else:
                fields["dtls_auto_generate_cert"] = "yes"
        return fields

    def objects(self, op: SeatRow) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        """The seat's auth, AOR and endpoint fields, the endpoint marked with their
        fingerprint."""
        auth = {"auth_type": "md5", "username": op.job_number, "realm": self.realm,
                "md5_cred": op.sip_digest}
        aor = {"max_contacts": "1", "remove_existing": "yes", "qualify_frequency": "0"}
        if op.contact:
            aor["contact"] = op.contact
        endpoint = self.endpoint_fields(op)
        whole = json.dumps([auth, aor, endpoint], sort_keys=True).encode()
        endpoint[FINGERPRINT] = f"hotline-{hashlib.sha256(whole).hexdigest()[:20]}"
        return auth, aor, endpoint

    async def push(self, op: SeatRow) -> bool:
        """Create or replace the seat's auth, AOR and endpoint, unless Asterisk already
        holds exactly these (False: nothing was pushed)."""
        auth, aor, endpoint = self.objects(op)
        if await self._holds(op.job_number, endpoint[FINGERPRINT]):
            return False
        await self.rest.put_dynamic_config("res_pjsip", "auth", op.job_number, auth)
        await self._replace("aor", op.job_number, aor)
        await self._replace("endpoint", op.job_number, endpoint)
        return True

    async def _holds(self, job_number: str, mark: str) -> bool:
        try:
            held = await self.rest.request(
                "GET", f"/asterisk/config/dynamic/res_pjsip/endpoint/{quote(job_number)}")
        except TelephonyError:  # none yet (404), or in doubt: push
            return False
        if not isinstance(held, list):
            return False
        return any(isinstance(f, dict) and f.get("attribute") == FINGERPRINT
                   and f.get("value") == mark for f in held)

    async def _replace(self, object_type: str, object_id: str, fields: dict[str, str]) -> None:
        # PUT on an existing object only adds fields; delete first so a change (a removed
        # static contact, say) takes effect.
        try:
            await self.rest.delete_dynamic_config("res_pjsip", object_type, object_id)
        except AriNotFound:
            pass
        except TelephonyError as exc:  # a static (pjsip.conf) object cannot be deleted
            log.debug("could not delete %s %s: %s", object_type, object_id, exc)
        await self.rest.put_dynamic_config("res_pjsip", object_type, object_id, fields)

    async def remove(self, job_number: str) -> None:
        for object_type in ("endpoint", "aor", "auth"):
            with contextlib.suppress(AriNotFound):
                await self.rest.delete_dynamic_config("res_pjsip", object_type, job_number)
