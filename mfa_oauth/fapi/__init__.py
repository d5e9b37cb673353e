"""FAPI 2.0 building blocks: the per-client security profile and pushed authorization requests.

The logic lives beside the protocol it implements (:mod:`mfa_oauth.par`, :mod:`mfa_oauth.client_auth`);
this package holds the models they share (see ``docs/fapi.md``).
"""
