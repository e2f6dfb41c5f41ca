"""Alert emails: building them (``messages``), sending them (``transport``) and the dev mailbox.

Nothing here knows about Celery or the database: the services hand in plain values and a mailer.
"""
