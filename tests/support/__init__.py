"""What the tests import: builders, clients, SMTP sink, child processes and waiting helpers.

Conftest modules hold only fixtures and hooks; everything a test calls by name lives here.
"""
