"""Customers: search (caller ID, phone, account number, name incl. Chinese) and the 360°
customer file. Read-only queries used by the agent API, the screen-pop, tickets and the
IVR; access control and auditing are the caller's (desk/)."""
