from django.apps import AppConfig


class KeyAppConfig(AppConfig):
    name = "tests.stepup.keyapp"
    label = "stepup_keyapp"
    default_auto_field = "django.db.models.BigAutoField"
