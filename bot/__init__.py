"""postmortem-bot: turn an incident thread into a testing-focused postmortem."""

__version__ = "0.1.0"
