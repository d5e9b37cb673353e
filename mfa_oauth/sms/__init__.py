"""SMS one-time codes, sent from an outbox by a Celery task (through Twilio in production).

Install: add ``"mfa_oauth.sms"`` to INSTALLED_APPS (after ``"mfa_oauth"``), run migrations; the
URLs come with ``mfa_oauth.urls`` (``sms/add/``, ``sms/status/<id>/``). Settings: the ``SMS_*``
and ``TWILIO_*`` keys of ``MFA_OAUTH`` (documented in ``mfa_oauth/conf.py``).

Production: a worker and the beat scheduler next to the web processes, on a Redis broker whose
``visibility_timeout`` exceeds a code's life plus the task's time limit::

    celery -A idp_site worker -l info          # sends (acks_late, one task at a time)
    celery -A idp_site beat -l info            # runs mfa_oauth.sms.sweep every 30 s
    # or from cron, without beat: python manage.py sms_sweep

Embedded default (no environment): Celery eager and the console gateway, so the code appears
on the runserver console.
"""
