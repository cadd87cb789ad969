"""Quality gate on the model's answer: per section as it completes, and on the whole report. Pure but for the one
repair call (``ask_for_repair``).

    guard, kept = RepeatGuard(), []
    for section in parser.feed(delta):                   # as the answer streams
        if guard.feed(section.id):
            kept.append(section)
            early = check_section(section, prompt_text=prompt, incident_text=incident)
    if not guard.opened(parser.open_section[0]):         # the answer started over: stop reading the stream
        ...
    result = evaluate(kept, incident_text=incident, prompt_text=prompt, guard=guard)
    if (repair := build_repair_prompt(result, kept, incident_text=incident)) is not None:
        rewritten, failed = await ask_for_repair(llm, repair, max_tokens=n)  # one call: the failing sections only
        ...                                              # re-check, replace those sections, evaluate again
    info.quality = quality_record(result, after)         # run.json "quality": each check before/after

``result.usable`` is False when a section is not analysis at all (echo, template tokens, loop): such output must
not reach the report. ``prompt`` is the system and user prompts as sent, joined; ``incident`` the prepared text.
"""

from bot.core.gate.checks import SECTION_CHECKS, check_report, check_section, evaluate
from bot.core.gate.guard import RepeatGuard
from bot.core.gate.model import CHECKS, CheckFailure, CheckId, GateResult, is_garbage, quality_record
from bot.core.gate.repair import ask_for_repair, build_repair_prompt

__all__ = [
    "CHECKS",
    "SECTION_CHECKS",
    "CheckFailure",
    "CheckId",
    "GateResult",
    "RepeatGuard",
    "ask_for_repair",
    "build_repair_prompt",
    "check_report",
    "check_section",
    "evaluate",
    "is_garbage",
    "quality_record",
]
