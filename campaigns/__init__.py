"""Proactive service (主动服务): outbound campaigns (reminders, outage notices, surveys,
appointments, agents' call lists) under dialing rules, with results and text messages."""
