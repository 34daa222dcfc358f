from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fake_ari import FakeAri


@pytest.fixture
async def fake_ari() -> AsyncIterator[FakeAri]:
    fake = FakeAri()
    await fake.start()
    yield fake
    await fake.close()
