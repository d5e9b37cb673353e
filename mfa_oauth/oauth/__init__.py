"""django-oauth-toolkit integration: the only package of mfa_oauth that imports DOT views."""
