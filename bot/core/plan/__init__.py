"""The structured test plan: the Recommended Test Suite as records people can act on (skeletons, tickets)."""

from bot.core.plan.model import TEST_TYPES, TestPlan, TestSpec, TestType

__all__ = ["TEST_TYPES", "TestPlan", "TestSpec", "TestType"]
