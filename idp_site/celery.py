import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "idp_site.settings")

app = Celery("idp_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
