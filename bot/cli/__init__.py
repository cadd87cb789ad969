"""Command line: `python -m bot` runs the Slack app; subcommands analyze, doctor, runs, history, similar, import, forget."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.errors import ConfigError, InputError, PostmortemError
from bot.ops import logs
from bot.settings import load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postmortem-bot", description="Testing-focused incident postmortems.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="start the Slack app in Socket Mode (the default)")
    analyze = sub.add_parser("analyze", help="analyse an incident file without Slack")
    analyze.add_argument("input", help="a text, log or Slack JSON file, or - for stdin")
    analyze.add_argument("--out", default="out", help="output folder (default: out)")
    analyze.add_argument("--no-audio", action="store_true", help="skip narration")
    analyze.add_argument("--model", help="override LLM_MODEL")
    analyze.add_argument("--strict", action="store_true",
                         help="exit 3 when no model analysis was possible, instead of 0 with the rule-based digest")
    analyze.add_argument("--tickets", action="store_true", help="then create one ticket per test of the plan (TICKETS=github|jira)")
    sub.add_parser("doctor", help="check Slack, the LLM server and the TTS engines")
    runs = sub.add_parser("runs", help="list recent runs, or `runs show ID`")
    runs.add_argument("action", nargs="?", choices=["show"], help="show one run with its report")
    runs.add_argument("run_id", nargs="?", type=int)
    runs.add_argument("--limit", type=int, default=20)
    history = sub.add_parser("history", help="past postmortems in memory matching WORDS (all words), newest first")
    history.add_argument("words", nargs="*")
    similar = sub.add_parser("similar", help="the remembered postmortems most like an incident file, best first")
    similar.add_argument("input", help="a text, log or Slack JSON file, or - for stdin")
    imports = sub.add_parser("import", help="read a folder of existing postmortems (markdown, text, Slack export) into memory")
    imports.add_argument("folder")
    forget = sub.add_parser("forget", help="forget a postmortem: its Slack thread link, or the file it was imported from")
    forget.add_argument("target")
    return parser


def _one_line(text: str) -> str:
    # Server messages and OS errors may span lines; scripts and humans read the error as one line. They may
    # also quote a key (an LLM proxy echoing the request), so they are redacted like everything else.
    from bot.core.redact import redact_text

    return " ".join(redact_text(text).split())


def _log_format() -> str:
    """LOG_FORMAT, or text while another setting is bad: each command reports a bad setting its own way (analyze
    records it in run.json), so it is not refused here."""
    try:
        return load_settings().log_format
    except ConfigError:
        return "text"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        # Thread text, model answers and library debug output all pass through logging, redacted (LOG_FORMAT: text or json).
        logs.configure(_log_format(), verbose=args.verbose)
        if args.command == "analyze":
            from bot.cli.analyze import analyze

            return analyze(args.input, out=args.out, audio=not args.no_audio, model=args.model, strict=args.strict,
                           tickets=args.tickets)
        if args.command == "doctor":
            from bot.cli.doctor import doctor

            return asyncio.run(doctor())
        if args.command == "runs":
            from bot.cli.runs import list_runs, show_run

            if args.action == "show":
                if args.run_id is None:
                    raise InputError("`runs show` needs a run id", "e.g. `python -m bot runs show 12`")
                return asyncio.run(show_run(args.run_id))
            return asyncio.run(list_runs(args.limit))
        if args.command in ("history", "similar", "import", "forget"):
            from bot.cli import memory

            if args.command == "history":
                return asyncio.run(memory.history(args.words))
            if args.command == "similar":
                return asyncio.run(memory.similar(args.input))
            if args.command == "import":
                return asyncio.run(memory.import_folder(args.folder))
            return asyncio.run(memory.forget(args.target))
        from bot.slack.app import run_app

        return asyncio.run(run_app())
    except PostmortemError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted by SIGINT — fix: run the command again", file=sys.stderr)
        return 130
    except Exception as exc:  # the CLI promises a one-line cause on every failure
        logging.getLogger("bot").debug("unexpected failure", exc_info=True)
        print(f"error: unexpected {type(exc).__name__}: {_one_line(str(exc))} — fix: rerun with -v for details", file=sys.stderr)
        return 4
