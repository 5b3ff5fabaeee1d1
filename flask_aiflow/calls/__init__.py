"""Calls between events: the view a skill gets, the stores, live calls and push."""
