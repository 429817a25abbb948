# Cooperative sockets for everything, psycopg2 included, before anything else is imported.
import eventlet

eventlet.monkey_patch()

pytest_plugins = ["shared.testing.plugin"]


def pytest_unconfigure(config):
    # At interpreter exit, logging's weakref callbacks would take eventlet's green lock from a
    # finalising greenlet and print noise; nothing is left to clean up by then.
    import logging
    logging._removeHandlerRef = lambda ref: None
