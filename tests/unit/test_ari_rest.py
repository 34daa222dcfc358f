import asyncio
import socket

import pytest

from hotline.ari.rest import AriRest
from hotline.errors import AriError, AriNotFound, AriUnavailable
from tests.fake_ari import PASSWORD, USER, FakeAri


async def test_info_and_auth(fake_ari: FakeAri) -> None:
    base = f"http://127.0.0.1:{fake_ari.server.port}/ari"  # type: ignore[union-attr]
    async with AriRest(base, USER, PASSWORD) as ari:
        assert (await ari.asterisk_info())["system"]["version"] == "22.0.0-fake"
    async with AriRest(base, USER, "wrong") as ari:
        with pytest.raises(AriError) as err:
            await ari.asterisk_info()
        assert err.value.status == 401


async def test_missing_channel_is_not_found(fake_ari: FakeAri) -> None:
    base = f"http://127.0.0.1:{fake_ari.server.port}/ari"  # type: ignore[union-attr]
    async with AriRest(base, USER, PASSWORD) as ari:
        with pytest.raises(AriNotFound):
            await ari.answer("nope")
        await fake_ari.incoming_call(channel_id="c9")
        await ari.answer("c9")
        assert fake_ari.channels["c9"]["state"] == "Up"


async def test_unreachable_ari_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with AriRest(f"http://127.0.0.1:{port}/ari", "u", "p", timeout_s=2) as ari:
        with pytest.raises(AriUnavailable, match="asterisk/info"):
            await ari.asterisk_info()


async def test_a_channel_just_made_is_bridged_once_it_is_in_stasis(fake_ari: FakeAri) -> None:
    """A snoop or externalMedia channel enters Stasis a moment after it is made; until then
    addChannel is 422. add_new_to_bridge waits for it (briefly); add_to_bridge does not."""
    base = f"http://127.0.0.1:{fake_ari.server.port}/ari"  # type: ignore[union-attr]
    async with AriRest(base, USER, PASSWORD) as ari:
        b1 = await ari.create_bridge("mixing", name="speech")
        with pytest.raises(AriError) as err:
            await ari.add_to_bridge(b1, "snoop-1")
        assert err.value.status == 422
        later = asyncio.get_running_loop().call_later(
            0.15, lambda: asyncio.ensure_future(fake_ari.incoming_call(channel_id="snoop-1")))
        await ari.add_new_to_bridge(b1, "snoop-1")
        assert fake_ari.bridges[b1] == ["snoop-1"]
        later.cancel()
        with pytest.raises(AriError) as err:  # one that never comes: the 422, in the end
            await ari.add_new_to_bridge(b1, "never")
        assert err.value.status == 422
