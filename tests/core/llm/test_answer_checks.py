"""Checks on the answer: cut at max tokens, chat-template tokens leaking, a prompt the server miscounted."""

from __future__ import annotations

import random

import pytest

from bot.core.llm.template import TemplateTokenFilter
from tests.fakes.fake_llm import broken_template, cut, template_spam, text
from tests.fakes.sample_reports import sample_report

FLAVORS = ["ollama", "llama.cpp", "vllm", "generic"]


def filtered(pieces: list[str]) -> tuple[str, int]:
    f = TemplateTokenFilter()
    out = "".join(f.feed(p) for p in pieces) + f.close()
    return out, f.count


@pytest.mark.parametrize(
    ("raw", "clean", "count"),
    [
        ("Answer.<|im_end|>", "Answer.", 1),
        ("<|im_start|>assistant\n## Timeline\nAlert.<|im_end|>\n<|im_start|>user\nthanks", "## Timeline\nAlert.\nthanks", 3),
        ("Done.<end_of_turn>\n<start_of_turn>model\nMore.", "Done.\nMore.", 2),
        ("<|start_header_id|>assistant<|end_header_id|>\n\nHi<|eot_id|>", "\n\nHi", 3),
        ("End<|endoftext|><eos>", "End", 2),
        ("a < b and c<d, x <| y, <b>bold</b>, <|not a token", "a < b and c<d, x <| y, <b>bold</b>, <|not a token", 0),
        ("use <|im_start|>users carefully", "use users carefully", 1),  # "user" + "s": the role word is taken only whole
        ("", "", 0),
    ],
)
def test_filter_strips_the_token_class(raw, clean, count):
    assert filtered([raw]) == (clean, count)


@pytest.mark.parametrize("seed", range(6))
def test_filter_is_independent_of_chunking(seed):
    raw = "## Timeline<|im_end|>\n<|im_start|>assistant\n- 14:02 a < b <end_of_turn>x<|eot_id|>\n<|endoftext|>"
    rng, pieces, i = random.Random(seed), [], 0
    while i < len(raw):
        n = rng.randint(1, 7)
        pieces.append(raw[i : i + n])
        i += n
    assert filtered(pieces) == filtered([raw]) == ("## Timeline\n- 14:02 a < b x\n", 5)


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_template_tokens_are_stripped_counted_and_explained(fake_of, client_for, flavor):
    llm = await fake_of(flavor, model="llama3.1:8b")
    report = sample_report()
    llm.script(template_spam(report))
    seen: list[str] = []

    async def collect(delta: str) -> None:
        seen.append(delta)

    result = await client_for(llm.base_url).stream("s", "u", on_text=collect)
    assert result.text == "".join(seen) == report
    assert result.template_tokens == len(report.split("\n"))  # one token after every line
    [warning] = [w for w in result.warnings if "chat-template tokens" in w]
    fix = "--jinja" if flavor == "llama.cpp" else "Modelfile" if flavor == "ollama" else "chat template"
    assert fix in warning


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_answer_cut_at_max_tokens_is_flagged(fake_of, client_for, flavor):
    llm = await fake_of(flavor, model="llama3.1:8b")
    llm.script(cut("## Incident Timeline\n- 14:02 deploy\n## Testing Gap"))
    result = await client_for(llm.base_url, llm_max_tokens=512).stream("s", "u")
    assert result.finish_reason == "length"
    [warning] = [w for w in result.warnings if "cut at" in w]
    assert "512-token limit" in warning and "LLM_MAX_TOKENS" in warning


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_broken_chat_template_is_detected_from_the_prompt_count(fake_of, client_for, flavor):
    llm = await fake_of(flavor, model="llama3.1:8b")
    llm.script(broken_template("An answer to nothing in particular.", prompt_tokens=9))
    result = await client_for(llm.base_url).stream("s" * 400, "u" * 3600)
    [warning] = [w for w in result.warnings if "template looks broken" in w]
    assert "a ~1000-token prompt was counted as 9 tokens" in warning
    if flavor == "llama.cpp":
        assert "--chat-template" in warning


async def test_a_short_prompt_is_not_called_broken(fake, client_for):
    fake.script(text("Short.", prompt_tokens=9))
    result = await client_for(fake.base_url).stream("s", "u" * 300)  # ~75 tokens: too few to judge
    assert result.warnings == []
