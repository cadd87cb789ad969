"""Listeners for clicks on the bot's messages (Block Kit ``block_actions``), one module per feature."""
