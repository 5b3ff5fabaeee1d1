"""The AI Flow protocol: the events the service sends and the actions it accepts."""
