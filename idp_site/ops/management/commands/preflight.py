"""Before starting the stack: can this configuration reach its database, cache and broker?

Prints one line per dependency and exits 1 if any is down, so ``scripts/prod`` stops with a
clear message instead of a migration traceback. ``--create-database`` creates a missing
PostgreSQL database (the local production-like stack; a real deployment provisions it).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from idp_site.production import redacted

from ... import health


class Command(BaseCommand):
    help = "Check that the database, cache and Celery broker of this configuration answer."

    def add_arguments(self, parser):
        parser.add_argument("--create-database", action="store_true", help="create a missing PostgreSQL database")

    def handle(self, *args, create_database: bool, **options):
        if create_database:
            self.create_database_if_missing()
        checks = health.run_all()
        where = {
            "database": self.database_location(),
            "cache": redacted(str(settings.CACHES["default"].get("LOCATION", ""))) or "in-process memory",
            "broker": redacted(str(settings.CELERY_BROKER_URL)),
        }
        for check in checks:
            self.stdout.write(f"preflight: {check.name:<8} {check.as_text()}  [{where[check.name]}]")
        down = [c.name for c in checks if not c.ok]
        if down:
            raise CommandError(f"preflight: {', '.join(down)} not reachable; see the lines above")

    def database_location(self) -> str:
        db = settings.DATABASES["default"]
        if db["ENGINE"].endswith("sqlite3"):
            return f"sqlite {db['NAME']}"
        vendor = db["ENGINE"].rsplit(".", 1)[-1]
        return f"{vendor}://{db.get('USER', '')}@{db.get('HOST', '')}:{db.get('PORT', '')}/{db['NAME']}"

    def create_database_if_missing(self) -> None:
        db = settings.DATABASES["default"]
        if connections["default"].vendor != "postgresql":
            return
        import psycopg
        from psycopg import sql

        params = {
            "dbname": "postgres",
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
            "connect_timeout": 5,
        }
        try:
            with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
                    self.stdout.write(f"preflight: created database {db['NAME']}")
        except psycopg.Error as error:
            self.stdout.write(f"preflight: could not create database {db['NAME']} ({type(error).__name__})")
