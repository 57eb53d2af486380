"""Supervisors: the live view and wallboard (live*), actions on agents and calls
(actions*, api.py) and the supervisor page (static/)."""
