from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "idp_site.demo"
    label = "idp_demo"
    verbose_name = "Demo relying party"
