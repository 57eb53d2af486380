"""Routing's adapters to Asterisk (and Twilio): carrying out the core's decisions as PBX
commands, and rebuilding the core's state from what the PBX holds."""
