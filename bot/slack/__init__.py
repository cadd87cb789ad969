"""Slack adapter: triggers, thread collection and threaded replies. The only package that imports Slack."""
