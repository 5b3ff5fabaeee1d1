"""The transports: the webhook and WebSocket routes, authentication, limits, shutdown."""
