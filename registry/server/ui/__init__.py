"""The web UI: server-rendered pages, one blueprint module per resource."""
