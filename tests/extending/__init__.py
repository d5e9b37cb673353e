"""A project that customises mfa_oauth through its adapter and MFA_OAUTH["FORMS"] (docs/extending.md)."""
