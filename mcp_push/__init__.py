"""mcp-push: fan a notification out to every push channel its user configured, from an agent or a shell."""

__version__ = "0.1.0"
