"""Junk of every shape: the atoms attackers and broken clients send, random unicode (NUL and
control characters included), huge strings, and values that break naive parsing (integers of
more than 4300 digits, which ``int()`` refuses, JSON that is almost JSON, base64 that is not)."""

from __future__ import annotations

import base64
import json

from hypothesis import strategies as st

ATOMS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "\t",
    "null",
    "None",
    "undefined",
    "0",
    "-1",
    "000000",
    "1e309",
    "NaN",
    "true",
    "[]",
    "{}",
    '{"a":',
    "%",
    "%00",
    "%ZZ",
    "%2F%2Fevil.example",
    "../../etc/passwd",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/cb",
    "https://rp.example.evil.example/cb",
    "https://rp.example/cb/../x",
    "https://rp.example/cb#frag",
    "https://rp.example/cb?code=stolen",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '"; DROP TABLE auth_user; --',
    "９９９９９９",  # fullwidth digits: int() takes them
    "١٢٣٤٥٦",  # Arabic-Indic digits
    "𝟏𝟐𝟑𝟒𝟓𝟔",
    "\u202e123456",
    "\ufeff123456",
    "123 456",
    "123-456",
    "12345678901234567890",
    "ﷺ" * 10,  # NFKC expands each to 18 characters
    "ǅ",
    "İ",
]

# Surrogates cannot be sent at all (not encodable as UTF-8); everything else may be.
_CHARS = st.characters(blacklist_categories=("Cs",))


def huge() -> st.SearchStrategy[str]:
    return st.builds(
        lambda c, n: c * n, st.sampled_from(["a", "9", "€", "\x00", "%", "/", "=", " "]), st.integers(1_000, 120_000)
    )


def long_digits() -> st.SearchStrategy[str]:
    # Past sys.get_int_max_str_digits() (4300): int() raises ValueError.
    return st.integers(4_000, 6_000).map(lambda n: "9" * n)


def junk_text(max_size: int = 200) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(ATOMS),
        st.text(_CHARS, max_size=max_size),
        st.text("0123456789 -", min_size=1, max_size=12),
        huge(),
        long_digits(),
    )


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """A value, or the parameter left out (None)."""
    return st.one_of(st.none(), strategy)


def junk_params(keys: list[str], valid: dict[str, str] | None = None) -> st.SearchStrategy[dict]:
    """A dict over ``keys``: each key missing, valid (when a valid value is given) or junk; plus
    extra junk keys."""
    valid = valid or {}
    parts = {}
    for key in keys:
        options = [st.none(), junk_text()]
        if key in valid:
            options.append(st.just(valid[key]))
        parts[key] = st.one_of(*options)
    extra = st.dictionaries(st.text(_CHARS, min_size=1, max_size=20), junk_text(50), max_size=3)
    return st.builds(
        lambda fixed, more: {**more, **{k: v for k, v in fixed.items() if v is not None}},
        st.fixed_dictionaries(parts),
        extra,
    )


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def junk_b64() -> st.SearchStrategy[str]:
    return st.one_of(
        st.binary(max_size=300).map(b64url),
        junk_text(),
        st.binary(max_size=50).map(lambda b: base64.b64encode(b).decode()),
    )


# JSON values of any shape (for WebAuthn bodies and ``claims``).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | junk_text(40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def webauthn_credential() -> st.SearchStrategy:
    """Something shaped like a PublicKeyCredential's JSON, with junk in every field."""
    response = st.fixed_dictionaries(
        {},
        optional={
            "clientDataJSON": st.one_of(
                junk_b64(), json_values, st.builds(lambda d: b64url(json.dumps(d).encode()), json_values)
            ),
            "attestationObject": junk_b64(),
            "authenticatorData": junk_b64(),
            "signature": junk_b64(),
            "userHandle": st.one_of(junk_b64(), json_values),
            "transports": json_values,
        },
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "id": junk_b64(),
            "rawId": junk_b64(),
            "type": st.one_of(st.just("public-key"), junk_text(20)),
            "response": st.one_of(response, json_values),
            "authenticatorAttachment": json_values,
            "clientExtensionResults": json_values,
        },
    )


def webauthn_body() -> st.SearchStrategy[bytes]:
    """A request body: a credential-shaped object, any JSON, or bytes that are not JSON."""
    as_json = st.one_of(
        st.fixed_dictionaries(
            {"credential": webauthn_credential()},
            optional={"name": json_values, "next": json_values, "level": json_values, "device": json_values},
        ),
        json_values,
    ).map(lambda v: json.dumps(v).encode())
    return st.one_of(as_json, st.binary(max_size=300), junk_text().map(lambda s: s.encode("utf-8")))


# Every method a browser, a client library or a scanner may send; views must decide each one
# (docs/security.md, "Deny by default"): Django answers HEAD with get() unless a view refuses it.
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def http_methods() -> st.SearchStrategy[str]:
    return st.sampled_from(HTTP_METHODS)
