"""Everything the bot sends Slack: a run's thread (delivery, thread, live preview, canvas, wiki link), DMs and the weekly reminder."""
