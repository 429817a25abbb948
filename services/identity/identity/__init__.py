"""Identity: programs, users, roles and permissions, credentials, tokens, audit."""
