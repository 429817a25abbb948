"""Sharing: partner organizations, consented shares of clients, partner contacts and review."""
