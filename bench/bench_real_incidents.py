"""The rule-based digest on real public incidents, against labels written before the bot ran (issue 21).

Run: .venv/bin/python bench/bench_real_incidents.py [--verbose] [--only ID[,ID…]] [--no-threads]
     → bench/results/real_incidents.json
Corpus: bench/corpus/real (README.md there). Texts come from $REAL_INCIDENTS_DIR (default /work/corpus/texts);
a missing text is reported with the repository, path and commit to re-create it from, and the rest still run.

Two inputs per run, scored separately:
- documents: every labelled text through the CLI's own path (`bot.core.incident.load.load_incident` on the file, then
  `cleaned` and `build_digest` as the pipeline runs them);
- threads: tests/fixtures/real_threads/<id>.json seeded into the Slack emulator at their real epoch times, then
  the real bot on loopback (Socket Mode, the fake LLM) is triggered with a reaction, so the incident comes
  through the bot's own collect path (conversations.replies, users.info); the Digest the pipeline builds is
  recorded by wrapping `bot.core.pipeline.build_digest`.

Figures (each over the incidents where it applies; "checklist" = `Digest.failures` in order, by `id`):
- root_cause_in_checklist / root_cause_first: the label's primary_class is in the checklist / is its first item;
  over incidents whose primary_class is not "none".
- checklist_precision: checklist items that are among the label's classes / all checklist items (all incidents;
  on a "none" incident every item is wrong).
- labelled_classes_found (recall): label classes present in the checklist / all label classes.
- labelled_times_found: label times that carry a clock (HH:MM; dates alone are skipped) whose clock appears in
  `render_markdown()` — as written, or converted to UTC from the label's timezone, in 24- or 12-hour form.
- timed_timeline_events: timeline events with a `time` / all timeline events.
- durations_shown / durations_right: over labels with duration_minutes: `Digest.duration_minutes` is not None /
  is within ±5 min of the label's.
- resolutions_recognised: `Digest.resolved` over labels with resolution_stated = true
  (resolved_without_stated_resolution: the same flag where the text states no resolution — should stay low).
- checklists_covering_action_items: checklists sharing at least one class with the classes the authors' own
  action items address / incidents whose action items name a class.
- empty_checklists (all incidents) and empty_checklists_where_a_class_applies (primary_class not "none").
- digest_ms: median and max wall time of load + digest per document; for threads, of build_digest inside the bot,
  with trigger → digest message in the thread reported beside it.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from real_corpus import CorpusError, Label, ThreadFixture, load_labels, load_threads, seed_thread, text_path, texts_dir
from real_scoring import Score, figures, row, score

from harness import BenchStack, median, run_main, running_stack, write_result

import bot.core.pipeline as pipeline_module
from bot.core.digest import Digest
from bot.core.incident.load import incident_from_text, load_incident
from bot.core.incident.model import Incident, cleaned
from bot.errors import InputError

TABLE = [
    ("root cause's class in the checklist", "root_cause_in_checklist"),
    ("root cause's class first", "root_cause_first"),
    ("checklist precision", "checklist_precision"),
    ("labelled classes found (recall)", "labelled_classes_found"),
    ("labelled times found in the digest", "labelled_times_found"),
    ("timeline events with a time", "timed_timeline_events"),
    ("durations shown (of stated)", "durations_shown"),
    ("durations right ±5 min (of stated)", "durations_right"),
    ("resolutions recognised (of stated)", "resolutions_recognised"),
    ("resolved where none is stated", "resolved_without_stated_resolution"),
    ("checklists covering the action items", "checklists_covering_action_items"),
    ("empty checklists", "empty_checklists"),
    ("empty where a class applies", "empty_checklists_where_a_class_applies"),
]


def score_documents(labels: list[Label]) -> tuple[list[Score], list[str]]:
    scores, missing = [], []
    pipeline_module.build_digest(cleaned(incident_from_text("warm-up: rules load once per process")))  # not timed
    for label in labels:
        try:
            path = text_path(label.id)
        except CorpusError as exc:
            missing.append(str(exc))
            continue
        t0 = time.perf_counter()
        try:
            digest = pipeline_module.build_digest(cleaned(load_incident(str(path))))
        except InputError as exc:  # a damaged or emptied text: name it, score the others
            missing.append(f"{label.id}: {exc}")
            continue
        scores.append(score(label.id, label, digest, time.perf_counter() - t0))
    return scores, missing


def _digest_posted(stack: BenchStack, channel: str, root: str) -> float | None:
    return next((c.time for c in stack.slack.calls if c.method == "chat.postMessage" and c.args.get("channel") == channel
                 and c.args.get("thread_ts") == root and "(rule-based)" in str(c.args.get("blocks") or "")), None)


async def score_threads(threads: list[ThreadFixture], labels: dict[str, Label]) -> tuple[list[Score], list[float]]:
    built: list[tuple[Incident, Digest, float]] = []
    inner = pipeline_module.build_digest

    def recording(incident: Incident) -> Digest:
        t0 = time.perf_counter()
        digest = inner(incident)
        built.append((incident, digest, time.perf_counter() - t0))
        return digest

    scores, waits = [], []
    pipeline_module.build_digest = recording  # type: ignore[assignment]
    try:
        async with running_stack(users=1) as stack:
            for thread in threads:
                channel, root, human = seed_thread(stack.slack, thread)
                before = len(built)
                t0 = time.monotonic()
                stack.slack.reaction_added(human, channel, root, "test_tube")
                try:
                    await stack.slack.wait_for(lambda s, c=channel, r=root: _digest_posted(stack, c, r) is not None, timeout=60)
                except TimeoutError:
                    raise SystemExit(f"{thread.id}: the bot posted no digest in the thread within 60 s "
                                     f"(its replies: {stack.slack.thread(channel, root)[1:]})") from None
                waits.append((_digest_posted(stack, channel, root) or t0) - t0)
                await stack.slack.wait_for(lambda s, c=channel, r=root: bool({"white_check_mark", "warning", "x"} & s.reactions_on(c, r)),
                                           timeout=120)
                incident, digest, took = built[before]
                if len(incident.messages) != len(thread.messages):
                    raise SystemExit(f"{thread.id}: the bot collected {len(incident.messages)} of {len(thread.messages)} messages")
                scores.append(score(thread.id, labels[thread.id], digest, took))
    finally:
        pipeline_module.build_digest = inner
    return scores, waits


def print_table(title: str, figs: dict[str, Any]) -> None:
    print(f"\n{title}: {figs['incidents']} incidents")
    for name, key in TABLE:
        f = figs[key]
        pct = "n/a" if f["pct"] is None else f"{f['pct']:.0f} %"
        print(f"  {name:<42} {pct:>6}  ({f['n']} of {f['of']})")
    print(f"  {'digest time per incident (median / max)':<42} {figs['digest_ms']['median']:.1f} / {figs['digest_ms']['max']:.1f} ms")


def print_rows(scores: list[Score]) -> None:
    for s in scores:
        r = row(s)
        print(f"- {r['id']}: primary {r['primary']}; checklist {r['checklist'] or '[]'}; wrong {r['wrong']}; missed {r['missed']}; "
              f"times {r['times_found']} (missed {r['times_missed']}); timed events {r['timed_events']}; "
              f"duration {r['duration']} vs {r['duration_stated']}; resolved {r['resolved']} vs stated {r['resolution_stated']}; "
              f"action classes {r['action_classes']} covered {r['covers_actions']}; {r['digest_ms']} ms")


async def main(args: argparse.Namespace) -> None:
    labels = load_labels()
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {lb.id for lb in labels}
        if unknown:
            raise SystemExit(f"--only: no label for {', '.join(sorted(unknown))} (ids are the file names in bench/corpus/real/labels)")
        labels = [lb for lb in labels if lb.id in wanted]
    if not texts_dir().is_dir():
        raise SystemExit(f"no folder {texts_dir()}: re-create the incident texts (bench/corpus/real/README.md) or set REAL_INCIDENTS_DIR")
    docs, missing = score_documents(labels)
    for problem in missing:
        print(f"warning: {problem}", file=sys.stderr)
    if not docs:
        raise SystemExit(f"no usable incident text in {texts_dir()}: re-create the texts (bench/corpus/real/README.md) "
                         "or point REAL_INCIDENTS_DIR at them")
    result: dict[str, Any] = {"texts_dir": str(texts_dir()), "texts_not_scored": missing, "documents": figures(docs),
                              "document_rows": [row(s) for s in docs]}
    print_table("Documents (load_incident → build_digest)", result["documents"])
    if args.verbose:
        print_rows(docs)
    if not args.no_threads:
        by_id = {lb.id: lb for lb in labels}
        threads = [t for t in load_threads() if t.id in by_id]
        tscores, waits = await score_threads(threads, by_id)
        result["threads"] = figures(tscores)
        result["threads"]["trigger_to_digest_s"] = {"median": round(median(waits), 3), "max": round(max(waits), 3)} if waits else None
        result["thread_rows"] = [row(s) for s in tscores]
        print_table("Slack threads (emulator → the bot's collect path → build_digest)", result["threads"])
        if waits:
            print(f"  {'trigger → digest in the thread (median / max)':<42} {median(waits):.2f} / {max(waits):.2f} s")
        if args.verbose:
            print_rows(tscores)
    print(f"wrote {write_result('real_incidents', result)}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--verbose", action="store_true", help="one row per incident: what is wrong or missing")
    p.add_argument("--only", help="comma-separated incident ids")
    p.add_argument("--no-threads", action="store_true", help="documents only (no bot on loopback)")
    return p.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    run_main(lambda: main(arguments))
