from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the site: /healthz, JSON audit log lines, the preflight and local-TLS commands."""

    name = "idp_site.ops"
    label = "idp_ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from . import audit

        audit.connect()
