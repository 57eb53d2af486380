"""Live pushes to agent desktops: the screen-pop, call state and agent state over one
websocket per desktop (hub.py), with per-agent replay so a reconnect loses nothing."""
