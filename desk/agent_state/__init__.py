"""The agent's own state commands (sign in, ready, not ready, wrap-up done, sign out),
behind a narrow port the routing service answers. See port.py for the contract and bus.py
for the cross-process protocol."""
