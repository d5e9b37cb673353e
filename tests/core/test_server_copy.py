"""MFAServer can be deep-copied, as DOT's oauthlib server can (Django's TestCase deep-copies what
setUpTestData stores: a project's tests keep an OAuthLibCore there, DOT's own do)."""

import copy

from oauth2_provider.oauth2_backends import OAuthLibCore

from mfa_oauth.oauth.server import MFAServer
from mfa_oauth.oauth.validators import MFAOAuth2Validator


def test_deepcopy_of_the_server_is_the_same_stateless_server():
    server = MFAServer(MFAOAuth2Validator())
    assert copy.deepcopy(server) is server
    core = OAuthLibCore(server)
    copied = copy.deepcopy({"core": core})["core"]
    assert copied.server is server
    assert copied.server.accepted_response_types == ["code"]
