"""Billing: the program subscription and seats, and client invoicing."""
