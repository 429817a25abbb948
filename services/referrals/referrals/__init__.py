"""Referrals: clients and their staff, referral lists, closed-loop referrals, inbound requests."""
