"""Good answers that must pass every check, and bad ones that must fail exactly the expected checks."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.gate import CheckId
from bot.core.prompt import FENCE_OPEN
from bot.core.sections import SectionId
from tests.core.gate.reports import GOOD, SUMMARY, A, G, P, R, S, T

E, TT, RP, RC, TF, SC, TS, SU = (
    CheckId.ECHO, CheckId.TEMPLATE_TOKENS, CheckId.REPETITION, CheckId.ROOT_CAUSE, CheckId.TEST_FIELDS,
    CheckId.SIGNAL_COVERAGE, CheckId.TIMESTAMPS, CheckId.SUMMARY,
)


@dataclass(frozen=True)
class Variant:
    name: str
    section: SectionId
    body: str


@dataclass(frozen=True)
class Bad:
    name: str
    section: SectionId
    body: str
    fails: frozenset[CheckId]


def bad(name: str, section: SectionId, body: str, *fails: CheckId) -> Bad:
    return Bad(name, section, body, frozenset(fails))


SUITE_TABLE = """\
| Test | Type | Scope | Fault injection | Success criteria |
|---|---|---|---|---|
| Pool saturation | load | checkout-api, 12 pods | cap db-primary at 100 connections | p99 latency < 300 ms, 0 pool timeouts |
| Retry storm | chaos | payments client | gateway returns 503 for 60 s | error rate < 5%, ≤ 1.2 attempts per request |"""

SUITE_INLINE = """\
- `test_pool_saturation` — Type: load; Scope: 12 pods; Fault injection: db at 100 connections; Success criteria: p99 latency < 300 ms
- `test_retry_backoff` — Type: chaos; Scope: payments client; Fault injection: 503 from the gateway; Success criteria: error rate < 5%"""

SUITE_HEADED_TYPE = """\
### Load test: connection-pool saturation
**Scope:** checkout-api against db-primary
**Fault injection:** 12 pods with pool_size 50 and max_connections 100
**Success criteria:**
p99 latency under 300 ms and no pool timeouts at 2x peak; error rate below 1%"""

SUITE_NUMBERED = """\
1. **Connection-pool saturation — load test**
   - Scope: checkout-api, 12 pods
   - Fault injection: db-primary capped at 100 connections
   - Pass criteria: p99 latency < 300 ms
2. **Retry backoff**
   - Kind: chaos
   - Target: payments client
   - Inject: gateway 503s for 60 s
   - Acceptance criteria: error rate < 5%"""

ROOT_PLAIN = """\
Primary root cause: the v2.31.0 pool override asked for 600 connections from a database capped at 100.
Secondary causes:
1) Retries without backoff.
2) Helm values not covered by tests."""

ROOT_ONLY = "**Primary cause:** the pool override in v2.31.0 needed 600 connections; the database allows 100."

TIMELINE_VARIANTS = """\
- 9:00 AM: the p99 alert fires (ISO 2025-11-17T09:00:00Z); at 09:00:40 ana acks.
- 08:53–08:54 pool timeouts; db-primary:5432 is the database; deploy v2.31.0 at 08:52."""

GERMAN_SUMMARY = (
    "Am siebzehnten November war der Checkout für etwa achtzehn Minuten gestört, und rund neun Prozent der "
    "Bestellungen sind fehlgeschlagen. Die Ursache war eine Änderung der Konfiguration in Version zwei Punkt "
    "einunddreißig. Sie hat den Pool der Datenbank von zwanzig auf fünfzig Verbindungen pro Pod erhöht, so dass "
    "zwölf Pods sechshundert Verbindungen von einer Datenbank verlangt haben, die nur hundert erlaubt. Anfragen "
    "haben auf eine Verbindung gewartet, sind nach dreißig Sekunden abgebrochen, und die neue Regel für "
    "Wiederholungen hat jeden Fehler dreimal ohne Pause wiederholt. Das hat die Warteschlange noch länger gemacht. "
    "Kein Schritt in unserer Pipeline hat die gesamte Zahl der Verbindungen eines Rollouts mit dem Limit der "
    "Datenbank verglichen, und die Lasttests liefen mit einem einzigen Pod und ohne Wiederholungen. Wir fügen "
    "deshalb einen Test für die Sättigung des Pools hinzu, einen Vertragstest für die Helm Werte und einen "
    "Chaos Test, der Fehler des Gateways einspielt und zeigt, dass die Wiederholungen warten. Der Rollback hat "
    "das Problem innerhalb von zehn Minuten nach der ersten Meldung behoben."
)

RUSSIAN_SUMMARY = (
    "Семнадцатого ноября оформление заказов работало с ошибками около восемнадцати минут, и примерно девять "
    "процентов заказов не прошли. Причиной стало изменение конфигурации в версии два тридцать один. Оно "
    "увеличило пул соединений с базой данных с двадцати до пятидесяти на каждый под, поэтому двенадцать подов "
    "запросили шестьсот соединений у базы, которая допускает только сто. Запросы ждали свободного соединения, "
    "обрывались через тридцать секунд, а новая политика повторов отправляла каждую ошибку ещё три раза без "
    "паузы, и очередь становилась только длиннее. Ни один шаг нашего конвейера не сравнивал общее число "
    "соединений выката с лимитом базы, а нагрузочные тесты запускались с одним подом и без повторов, поэтому "
    "они не могли увидеть проблему. Мы добавляем тест насыщения пула на полном числе реплик, контрактный тест "
    "для значений хельма и хаос тест, который вносит ошибки шлюза и проверяет, что повторы ждут. Откат устранил "
    "проблему в течение десяти минут после первого вызова дежурного."
)

GOOD_VARIANTS: list[Variant] = [
    Variant("suite-as-table", S, SUITE_TABLE),
    Variant("suite-as-inline-bullets", S, SUITE_INLINE),
    Variant("suite-type-in-heading-value-on-next-line", S, SUITE_HEADED_TYPE),
    Variant("suite-numbered-items-indented-fields", S, SUITE_NUMBERED),
    Variant("root-plain-label-paren-numbers", R, ROOT_PLAIN),
    Variant("root-no-secondary", R, ROOT_ONLY),
    Variant("root-as-sentence-with-mention", R, "The primary root cause was the v2.31.0 pool override (600 connections for a limit of 100)."
            "\n\nSecondary causes (ranked):\n1. Retries without backoff amplified the primary cause."),
    Variant("timeline-12h-seconds-iso-port-version", T, TIMELINE_VARIANTS),
    Variant("timeline-time-then-colon", T, "- 09:05: rollback to v2.30.4 starts\n- 09:09: the latency alert resolves (p99 310 ms)"),
    Variant("suite-fault-none-with-reason", S, GOOD[S].replace(
        "cap the database at max_connections 100 and run 12 pods with the release's pool size",
        "none; the test reads replicas and pool size from the rendered helm values")),
    Variant("summary-120-words", A, " ".join(SUMMARY.split()[:119]) + " end."),
    Variant("summary-short-lines", A, SUMMARY.replace(". ", ".\n")),
    # Labels the prompt asks for are short: reusing them is the point, not an echo.
    Variant("labels-reused", G, "Senior Engineer A: Type: load was never run.\nSenior Engineer B: Scope: one pod only."),
]

_SUITE_NO_LATENCY = GOOD[S].replace("and p99 latency under 300 ms ", "")

BAD: list[Bad] = [
    bad("echo-timeline-hint", T, "timestamped key events from the data, then the blast radius (who and what was affected, for how long).", E),
    bad("echo-gaps-hint", G, "the two-engineer review described in rule 1.", E),
    bad("echo-system-rule", G,
        "Cover only testing gaps, observability blind spots and validation failures. No blame, no HR process, no generic advice.", E),
    bad("echo-system-wrapped-line", P, "Look specifically for these failure classes and name the one that applies:", E),
    bad("echo-root-hint", R, "**Primary root cause:** one sentence. Then **Secondary causes (ranked):** a numbered list.", E),
    bad("echo-suite-hint", S, "one sub-heading per test with Type, Scope, Fault injection and Success criteria.", E, TF, SC),
    bad("echo-summary-hint", A, "150 to 200 words of plain spoken prose for a narrated summary: no markdown, no lists, no URLs, no code.", E, SU),
    bad("echo-fence-marker", P, f"{FENCE_OPEN}\n1. Add a pool gate.", E),
    bad("template-im-end", G, GOOD[G] + "<|im_end|>", TT),
    bad("template-inst", G, "[INST] " + GOOD[G], TT),
    bad("template-eos", G, GOOD[G] + "</s>", TT),
    bad("template-gemma", P, GOOD[P] + "\n<end_of_turn>\n<start_of_turn>model", TT),
    bad("loop-sentence", P, GOOD[P] + "\n" + "Add a pool saturation test to the suite now. " * 3, RP),
    bad("loop-lines", G, "\n".join(["- The load test never ran the real pool size."] * 4), RP),
    bad("loop-phrase", T, "the pool is full " * 12, RP, CheckId.SUBSTANCE),  # four distinct words: a stub too
    bad("root-no-label", R, "A refactor moved the pool size into helm values and nobody multiplied it by the replicas.", RC),
    bad("root-two-primaries", R, "**Primary root cause:** the pool override.\n**Primary root cause:** retries without backoff.", RC),
    bad("root-hedged", R, "**Primary root cause:** possibly the pool override, or maybe the retries.", RC),
    bad("root-either-or", R, "**Primary root cause:** either the pool override or the retry policy.", RC),
    bad("root-empty-label", R, "**Primary root cause:**\n**Secondary causes (ranked):**\n1. Retries", RC),
    bad("root-unranked", R, "**Primary root cause:** the pool override.\n\n**Secondary causes:**\n- Retries\n- Helm values", RC),
    bad("root-misnumbered", R, "**Primary root cause:** the pool override.\n\n**Secondary causes (ranked):**\n1. Retries\n3. Helm", RC),
    bad("suite-no-scope", S, GOOD[S].replace("- **Scope:** payments client retries\n", ""), TF),
    bad("suite-criterion-without-number", S, GOOD[S].replace("at most 1.2 attempts per request and the error rate stays under 5%",
                                                              "the error rate stays low"), TF),
    bad("suite-no-fault-column", S, SUITE_TABLE.replace("| Fault injection ", "| Notes ").replace("| cap db-primary at 100 connections ",
                                                                                                  "| |"), TF),
    bad("suite-table-criterion-without-number", S, SUITE_TABLE.replace("error rate < 5%, ≤ 1.2 attempts per request", "error rate stays low"), TF),
    bad("suite-fault-none", S, GOOD[S].replace("a values file with pool_size 50 and 12 replicas", "none"), TF),
    bad("suite-fault-na-short-reason", S, GOOD[S].replace("a values file with pool_size 50 and 12 replicas", "n/a; not applicable"), TF),
    bad("suite-fault-none-then-field", S, GOOD[S].replace("a values file with pool_size 50 and 12 replicas",
                                                          "none; Success criteria: fails the build").replace(
        "- **Success criteria:** the build fails when replicas × pool exceeds 80% of max_connections", ""), TF),
    bad("suite-misses-the-connections-alert", S, GOOD[S].replace("connections", "slots").replace("Connection-pool", "Slot")
        .replace("pool", "slot").replace("Pool", "Slot"), SC),
    bad("suite-prose-only", S, "We should load test the pool and chaos test the retries, watching p99 latency and error rate.", TF),
    bad("suite-misses-latency", S, _SUITE_NO_LATENCY, SC),
    bad("timestamp-invented", T, GOOD[T].replace("**09:05**", "**14:02**"), TS),
    bad("timestamp-12h-invented", T, GOOD[T] + "\n- 2:02 pm: the gateway recovers.", TS),
    bad("timestamp-date-invented", P, GOOD[P] + "\n4. Review on 2025-11-18.", TS),
    bad("summary-too-short", A, " ".join(SUMMARY.split()[:100]), SU),
    bad("summary-too-long", A, SUMMARY + " " + " ".join(SUMMARY.split()[:60]), SU),
    bad("summary-bullets", A, "- " + SUMMARY, SU),
    bad("summary-heading", A, "### Summary\n" + SUMMARY, SU),
    bad("summary-wrong-language", A, GERMAN_SUMMARY, SU),
    bad("summary-wrong-script", A, RUSSIAN_SUMMARY, SU),
    # Stubs: a label or a placeholder is not analysis, whichever section it stands in.
    bad("stub-label", T, "Problems:", CheckId.SUBSTANCE),
    bad("stub-tbd", G, "TBD", CheckId.SUBSTANCE),
    bad("stub-five-words", P, "Add tests for the pool.", CheckId.SUBSTANCE),
]
