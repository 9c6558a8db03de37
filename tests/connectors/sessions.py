"""What every connector on `ClientCredentialsSession` (connectors/http/session.py) must show, run by
each one's own tests against its emulator: missing or blank credentials are refused by name before
any remote call; a session inside a session shares the open client; outside one, `api` refuses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from lmsbridge.connectors.errors import ConnectorError
from lmsbridge.errors import ErrorCode


def check_client_credentials_session(
    *, refused: Sequence[Any], connector: Any, calls: Callable[[], int], asks_for: str, label: str
) -> None:
    before = calls()
    for without in refused:
        with pytest.raises(ConnectorError) as raised, without.session():
            pass
        assert raised.value.code == ErrorCode.INTEGRATION_AUTHENTICATION_INVALID
        assert f"The integration has no {asks_for}: give credentials as" in str(raised.value)
    assert calls() == before, "credentials were refused only after a remote call"
    with connector.session() as api, connector.session() as inner:
        assert inner is api and connector.api is api
    with pytest.raises(RuntimeError, match=f"{label} calls run inside session"):
        connector.api.close()
