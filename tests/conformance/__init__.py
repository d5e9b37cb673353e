"""Black-box conformance tests against the live server (OpenID Foundation test plans, OAuth RFCs)."""
