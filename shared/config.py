"""Configuration: environment variables over each service's ``config.yml``.

``config.yml`` files use nameko's ``${VAR:default}`` interpolation, so ``nameko run`` and the
project's own tools (migrations, seeding, tests) read the very same values through
``load_config``.
"""
import os
from urllib.parse import urlsplit, urlunsplit

import yaml
from nameko.cli.main import setup_yaml_parser

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
SERVICES = ("identity", "directory", "referrals", "sharing", "billing", "notify")


def load_config(path):
    setup_yaml_parser()
    with open(path) as stream:
        return yaml.safe_load(stream)


def setting(config, key, default=None):
    """A value from the loaded config (whose ``${VAR:default}`` placeholders already took the
    environment's values), else from the environment, else the default."""
    if config and config.get(key) not in (None, ""):
        return config[key]
    return os.environ.get(key, default)


def service_database_url(config, service_name):
    """Each service owns one database on the ``DATABASE_URL`` server: ``<prefix>_<service>``."""
    server = setting(config, "DATABASE_URL", DEFAULT_DATABASE_URL)
    prefix = setting(config, "DATABASE_PREFIX", "handoff")
    return replace_database(server, f"{prefix}_{service_name}")


def replace_database(url, database):
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))
