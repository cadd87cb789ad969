"""Tests of bot/core/incident."""
