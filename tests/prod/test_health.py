"""/healthz and ``manage.py preflight``: every dependency checked for real, the broken one named."""

from __future__ import annotations

import json

import pytest
from django.core.cache import caches
from django.test import override_settings

from idp_site.celery import app as celery_app

from .envs import manage, production_env

# Nothing listens on port 1: a connection there is refused at once.
DEAD_REDIS = "redis://:hunter2-password@127.0.0.1:1/7"
DEAD_POSTGRES = "postgres://idp:hunter2-password@127.0.0.1:1/idp_prod_dead"


@pytest.fixture
def dead_broker():
    saved = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = DEAD_REDIS
    yield
    celery_app.conf.task_always_eager, celery_app.conf.broker_url = saved


@pytest.mark.django_db
def test_healthz_ok_on_the_embedded_default(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["down"] == []
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_names_the_dependencies_that_are_down(client, dead_broker):
    dead_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=dead_cache):
        caches._settings = None  # noqa: SLF001  (the handler caches its settings)
        response = client.get("/healthz/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["down"] == ["cache", "broker"]
    assert body["checks"]["database"].startswith("ok")
    assert body["checks"]["cache"].startswith("down (")
    assert "hunter2" not in response.content.decode() and "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_healthz_refuses_writes(client):
    assert client.post("/healthz").status_code == 405


def test_preflight_names_each_dependency_that_is_down(tmp_path):
    env = production_env(tmp_path, DATABASE_URL=DEAD_POSTGRES, CACHE_URL=DEAD_REDIS, CELERY_BROKER_URL=DEAD_REDIS)
    env["DATABASE_CONNECT_TIMEOUT"] = "2"
    result = manage("preflight", env=env)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert [line.split()[1] for line in lines] == ["database", "cache", "broker"]
    assert all(" down (" in line for line in lines), lines
    assert (
        result.stderr.strip() == "CommandError: preflight: database, cache, broker not reachable; see the lines above"
    )
    assert "hunter2" not in result.stdout + result.stderr


@pytest.fixture
def preflight_database():
    """A PostgreSQL URL naming a database of this run's own, which preflight creates; dropped after."""
    import psycopg

    from tests.services import require_postgres, run_scoped

    server = require_postgres().rsplit("/", 1)[0]
    name = run_scoped("idp_prod_preflight")
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_preflight_passes_against_the_running_services(tmp_path, preflight_database):
    from tests.services import require_redis

    postgres = preflight_database
    redis = require_redis(7)
    env = production_env(tmp_path, DATABASE_URL=postgres, CACHE_URL=redis, CELERY_BROKER_URL=redis)
    result = manage("preflight", "--create-database", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database ok (postgresql)" in result.stdout
    assert "cache    ok (RedisCache)" in result.stdout
    assert "broker   ok (redis)" in result.stdout
    json.dumps(result.stdout)  # printable, no binary noise


def test_preflight_accepts_rabbitmq_as_the_broker(tmp_path, preflight_database):
    import socket

    from tests.services import require_redis

    postgres = preflight_database
    redis = require_redis(7)
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=0.5).close()
    except OSError:
        pytest.skip("no RabbitMQ on 127.0.0.1:5672 (optional: the broker may be Redis or RabbitMQ)")
    env = production_env(
        tmp_path, DATABASE_URL=postgres, CACHE_URL=redis, CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//"
    )
    result = manage("preflight", "--create-database", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broker   ok (amqp)" in result.stdout


@pytest.mark.django_db
def test_healthz_is_exempt_from_the_https_redirect(client, settings):
    from idp_site.production import REDIRECT_EXEMPT

    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = REDIRECT_EXEMPT
    assert client.get("/healthz").status_code == 200
    response = client.get("/demo/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/demo/"
