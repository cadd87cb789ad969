"""Quality gate on the model's answer: per section as it completes, and on the whole report.

    guard = RepeatGuard()
    for section in parser.feed(delta):
        if not guard.feed(section.id):
            break                                    # stop reading: the answer started over
        failures = check_section(section, prompt_text=prompt, incident_text=incident)
    result = evaluate(kept, incident_text=incident, prompt_text=prompt, guard=guard)
    if result.repair_targets():
        system, user = build_repair_prompt(result, kept, incident_text=incident)   # one call, failing sections only
"""

from bot.core.gate.checks import SECTION_CHECKS, check_report, check_section, evaluate
from bot.core.gate.guard import RepeatGuard
from bot.core.gate.model import CHECKS, CheckId, Failure, GateResult, quality_record
from bot.core.gate.repair import build_repair_prompt

__all__ = [
    "CHECKS", "SECTION_CHECKS", "CheckId", "Failure", "GateResult", "RepeatGuard", "build_repair_prompt", "check_report",
    "check_section", "evaluate", "quality_record",
]
