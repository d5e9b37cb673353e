"""Fixtures shared by the FAPI tests: ``bank-app`` with its secret (``oauth``), and its ES256 key and
registration under the FAPI 2.0 switch (``fapi_key``, ``fapi_app``)."""

from __future__ import annotations

import pytest

from tests.fapi.helpers import client_key, fapi_application, make_client, secret_client


@pytest.fixture
def fapi_key():
    return client_key("ES256")


@pytest.fixture
def fapi_app(live_server, user, fapi_key):
    return fapi_application(live_server.url, fapi_key)


@pytest.fixture
def oauth(live_server, user):
    make_client(live_server.url)
    client = secret_client(live_server.url)
    yield client
    client.session.close()
