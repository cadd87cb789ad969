"""Running the bot as a service: health and readiness probes, Prometheus metrics, structured (JSON) logs.

Nothing here decides what a run does; the rest of the bot reports facts to it where they are known
(``bot.metrics``) and the Slack app serves them (``bot.ops.health``)."""
