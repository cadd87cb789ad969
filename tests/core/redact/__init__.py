"""Tests of bot/core/redact."""
