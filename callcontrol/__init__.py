"""Call control from the agent's desk: hold, transfers, consultation, conference,
click-to-dial, DTMF, hang up (issue 14). See README.md."""
