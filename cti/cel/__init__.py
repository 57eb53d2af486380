"""Asterisk's own record of calls (CEL), read back on resync: calls the bridge missed."""
