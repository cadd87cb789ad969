"""Everything Slack sends the bot: the triggers, button clicks, the Home tab and `/postmortem history`. Each listener acks at once."""
