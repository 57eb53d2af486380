"""The agent API's HTTP and websocket routes, one module per resource."""
