"""Bot overhead: everything that is not the LLM, on a 200-message thread with an instant fake LLM, TTS off.

Run: .venv/bin/python bench/bench_overhead.py   → bench/results/overhead.json
Metric: overhead = (trigger sent → ✅ reaction) − (chat request arrival → stream end), absolute, and as a share
of a realistic run whose LLM part takes 60 s: overhead / (overhead + 60). Goal ≤ 2 % and well under 1 s.

With an instant LLM the section posts happen after the stream ended, so they count as overhead here
(in a real run they overlap generation): the figure is an upper bound.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import ClientSession
from slack_sdk.web.async_client import AsyncWebClient

from harness import BenchStack, median, ms, run_main, running_stack, section_posts, write_result

from tests.fakes.fake_llm import gate_passing_report

MESSAGES = 200
USERS = 12
REPEATS = 3
REALISTIC_LLM_S = 60.0
GOAL_SHARE = 0.02
GOAL_ABS_S = 1.0


def big_thread(stack: BenchStack, n: int) -> str:
    """A root and 199 replies from 12 people, with mentions, like a busy incident channel."""
    s, users = stack.slack, stack.users
    root = s.post(stack.channel, users[0], f"[bench-{n}] Incident: checkout 5xx since 08:52")
    for i in range(MESSAGES - 1):
        who, other = users[i % len(users)], users[(i * 5 + 3) % len(users)]
        s.post(stack.channel, who, f"update {i}: <@{other}> still seeing pool timeouts on pod-{i % 12}, "
               f"error rate {10 + i % 9}%", thread_ts=root)
    return root


class LookupProbe:
    """Wraps Collector._lookup (users.info) to see whether lookups overlap."""

    def __init__(self, stack: BenchStack) -> None:
        assert stack.bot.collector is not None
        collector = stack.bot.collector
        inner = collector._lookup
        self.in_flight = self.max_in_flight = self.count = 0

        async def lookup(user_id: str) -> str:
            self.count += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                return await inner(user_id)
            finally:
                self.in_flight -= 1

        collector._lookup = lookup  # type: ignore[method-assign]


async def one_run(stack: BenchStack, n: int, reply_text: str) -> dict[str, Any]:
    root = big_thread(stack, n)
    first_call = len(stack.slack.calls)
    t0 = time.monotonic()
    stack.slack.reaction_added(stack.users[1], stack.channel, root, "test_tube")
    await stack.wait_finished([root], timeout=60)
    done = stack.done_time(root)
    assert done is not None, "run failed"
    calls = stack.slack.calls[first_call:]  # one run at a time, so every later call is this run's
    span, run_start, info = stack.probe.spans[-1], stack.run_starts[-1], stack.results[-1].facts
    assert span.end is not None

    def first(method: str, **match: Any) -> float:
        return next(c.time for c in calls if c.method == method and all(str(c.args.get(k)) == str(v) for k, v in match.items()))

    # The reacted message's thread is looked up with conversations.history (a root) or .replies (a reply), limit 1.
    lookup = min(c.time for c in calls if c.method in ("conversations.history", "conversations.replies") and str(c.args.get("limit")) == "1")
    collect = first("conversations.replies", limit=200)
    users = [c.time for c in calls if c.method == "users.info"]
    last_post = section_posts(stack, root)[-1][1]
    wall, llm = done - t0, span.end - span.start
    timings = info.timings
    pre_llm = span.start - run_start
    segments = {
        "trigger → thread lookup (socket, Bolt, dispatch)": lookup - t0,
        "lookup → collect starts (queue, authorize, 👀, status)": collect - lookup,
        "collect (replies pages, users.info, files)": run_start - collect,
        "pipeline preflight (/api/show)": timings.get("preflight", 0.0),
        "pipeline prepare": timings.get("prepare", 0.0),
        "prompt + stage status edits": pre_llm - timings.get("preflight", 0.0) - timings.get("prepare", 0.0),
        "stream drain after the fake's last byte (SDK decode, parse, section posts)*": last_post - span.end,
        "finish (report upload, closing line, status, ✅)": done - last_post,
    }
    method_counts: dict[str, int] = {}
    for c in calls:
        method_counts[c.method] = method_counts.get(c.method, 0) + 1
    return {
        "wall_s": wall, "llm_s": llm, "overhead_s": wall - llm,
        # What a real run pays: the drain overlaps generation when tokens arrive at model speed.
        "overhead_excl_drain_s": wall - llm - (last_post - span.end),
        "drain_us_per_token": round((last_post - span.end) / (len(reply_text) / 4) * 1e6, 1),
        "segments_ms": {k: ms(v) for k, v in segments.items()},
        "users_info_calls": len(users),
        "users_info_spread_ms": ms(max(users) - min(users)) if users else 0.0,
        "pipeline_timings": dict(timings),
        "slack_calls": method_counts,
    }


async def call_rtt(stack: BenchStack, shared: bool, n: int = 40) -> float:
    """Median auth.test round trip with the bot's client (a new aiohttp session, so a new connection, per
    call) or with one shared session (keep-alive)."""
    session = ClientSession() if shared else None
    client = stack.bot.client if not shared else AsyncWebClient(token=stack.slack.bot_token, base_url=stack.slack.api_url, session=session)
    times = []
    try:
        for _ in range(n):
            t = time.perf_counter()
            await client.auth_test()
            times.append(time.perf_counter() - t)
    finally:
        if session is not None:
            await session.close()
    return median(times)


async def main() -> None:
    cold, warm, lookups, rtt = [], [], [], {}
    reply = gate_passing_report()  # instant: no tokens_per_s
    for r in range(REPEATS):
        async with running_stack(default_reply=reply, users=USERS) as stack:
            probe = LookupProbe(stack)
            cold.append(await one_run(stack, 2 * r, reply))
            lookups.append((probe.count, probe.max_in_flight))
            warm.append(await one_run(stack, 2 * r + 1, reply))  # user names now cached by the Collector
            if r == 0:
                rtt = {"per_call_session_ms": ms(await call_rtt(stack, shared=False)),
                       "shared_session_ms": ms(await call_rtt(stack, shared=True))}

    def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
        overhead = median([x["overhead_s"] for x in runs])
        real = median([x["overhead_excl_drain_s"] for x in runs])
        return {
            "median_overhead_excl_drain_s": round(real, 3),
            "share_of_60s_run_excl_drain": round(real / (real + REALISTIC_LLM_S), 4),
            "median_drain_us_per_token": median([x["drain_us_per_token"] for x in runs]),
            "median_wall_s": round(median([x["wall_s"] for x in runs]), 3),
            "median_llm_s": round(median([x["llm_s"] for x in runs]), 3),
            "median_overhead_s": round(overhead, 3),
            "share_of_60s_run": round(overhead / (overhead + REALISTIC_LLM_S), 4),
            "segments_ms_median": {k: round(median([x["segments_ms"][k] for x in runs]), 1) for k in runs[0]["segments_ms"]},
        }

    result: dict[str, Any] = {
        "messages": MESSAGES, "users": USERS, "repeats": REPEATS, "realistic_llm_s": REALISTIC_LLM_S,
        "cold": summary(cold), "warm": summary(warm),
        "users_info_lookups_max_in_flight": max(m for _, m in lookups),
        "users_info_lookups_per_cold_run": lookups[0][0],
        "users_info_spread_ms_cold": median([x["users_info_spread_ms"] for x in cold]),
        "slack_api_rtt_loopback": rtt,
        "first_run_in_process_prompt_ms": cold[0]["segments_ms"]["prompt + stage status edits"],
        "note": "* with an instant LLM the client drains a fully buffered stream after the fake is done; "
                "at model speed (~33 ms a token) that work overlaps generation, so it is an upper-bound artefact",
        "goal_share": GOAL_SHARE, "goal_abs_s": GOAL_ABS_S,
        "runs_cold": cold, "runs_warm": warm,
    }
    c = result["cold"]
    result["meets_goal"] = c["share_of_60s_run"] <= GOAL_SHARE and c["median_overhead_s"] < GOAL_ABS_S
    path = write_result("overhead", result)

    for name in ("cold", "warm"):
        s = result[name]
        print(f"{name}: wall {s['median_wall_s']:.3f} s, LLM {s['median_llm_s']:.3f} s, overhead {s['median_overhead_s']:.3f} s "
              f"= {s['share_of_60s_run']:.2%} of a {REALISTIC_LLM_S:g} s run; without the instant-stream drain "
              f"{s['median_overhead_excl_drain_s']:.3f} s = {s['share_of_60s_run_excl_drain']:.2%}")
    print("cold-run breakdown (median ms):")
    for k, v in c["segments_ms_median"].items():
        print(f"  {v:8.1f}  {k}")
    print(f"  (* drain: {c['median_drain_us_per_token']} µs a token of client work, overlapped with generation in real runs; "
          f"first run in the process adds {result['first_run_in_process_prompt_ms']} ms of one-off client set-up)")
    print(f"users.info: {result['users_info_lookups_per_cold_run']} lookups per cold run, up to "
          f"{result['users_info_lookups_max_in_flight']} in flight (spread {result['users_info_spread_ms_cold']} ms)")
    print(f"Slack call round trip on loopback: {rtt['per_call_session_ms']} ms with a new session per call "
          f"vs {rtt['shared_session_ms']} ms with one shared session")
    print(f"{'meets' if result['meets_goal'] else 'MISSES'} the goal (≤ {GOAL_SHARE:.0%} and < {GOAL_ABS_S:g} s); wrote {path}")


if __name__ == "__main__":
    run_main(main)
