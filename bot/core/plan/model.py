"""One recommended test as a record, and the plan of a run. Validated with pydantic so the model's structured
answer, run.json and the ticket backends all share one schema."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

TestType = Literal["unit", "integration", "load", "chaos", "contract", "canary", "e2e"]
TEST_TYPES: tuple[str, ...] = ("unit", "integration", "load", "chaos", "contract", "canary", "e2e")


class TestSpec(BaseModel):
    """A test to add. ``catches``: the alert or metric of this incident it would have caught."""

    __test__ = False  # not a pytest class, whatever its name says

    name: str = Field(min_length=1, max_length=200)
    type: TestType
    scope: str
    fault_injection: str
    success_criteria: str
    catches: str = ""
    priority: int = Field(2, ge=1, le=3)  # 1 = add first

    @property
    def slug(self) -> str:
        """A file-name-safe id, stable for the same name."""
        cleaned = "".join(c if c.isalnum() else "_" for c in self.name.lower())
        return "_".join(part for part in cleaned.split("_") if part)[:60] or "test"


class TestPlan(BaseModel):
    """The plan of one run. ``source``: how it was made (parsed markdown, or parsed plus one structured call)."""

    __test__ = False

    tests: list[TestSpec] = Field(default_factory=list)
    source: Literal["parsed", "structured", "rule-based"] = "parsed"
    missing_fields: list[str] = Field(default_factory=list)  # "name: field" still unknown after the JSON call
