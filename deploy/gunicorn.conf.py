"""gunicorn settings for the web nodes (read by ``gunicorn -c deploy/gunicorn.conf.py``).

Every value can be overridden from the environment; the defaults suit a small node.
"""

import multiprocessing
import os

bind = [f"{os.environ.get('BIND_HOST', '127.0.0.1')}:{os.environ.get('PORT', '8500')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(4, multiprocessing.cpu_count() * 2 + 1))))
worker_class = "sync"
# Load Django once in the master: a configuration error stops the start with its one line
# instead of every worker failing to boot over and over.
preload_app = True
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Graceful shutdown: on SIGTERM workers finish the requests in flight for up to this long.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Trust X-Forwarded-* only from the local proxy (Django decides separately: SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = os.environ.get("GUNICORN_PROC_NAME", "idp-web")
# gunicorn 27's control socket has one default path per user: several nodes on one host would
# fight over it, and nothing here uses it.
control_socket_disable = True

# Local production-like stack only: gunicorn terminates TLS itself (scripts/local_env.py makes the
# certificate). In production the proxy in front does it and these stay unset.
if os.environ.get("TLS_CERT_FILE"):
    certfile = os.environ["TLS_CERT_FILE"]
    keyfile = os.environ["TLS_KEY_FILE"]

accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "idp_site.ops.logs.JSONFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
    "root": {"handlers": ["stdout"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
}
