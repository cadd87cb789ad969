"""Tests of bot/core/answer."""
