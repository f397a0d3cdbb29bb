"""Checkout: booking API and saga worker, run as Lambda functions."""
