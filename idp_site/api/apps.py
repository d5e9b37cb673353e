from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "idp_site.api"
    label = "idp_api"
    verbose_name = "Sample resource server (step-up demo)"
