"""Twilio front end of the IVR: TwiML webhooks walking the menu one step per request
(routes.py), replayed from the recorded replies (ivr/replay.py). See ivr/README.md."""
