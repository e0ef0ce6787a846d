"""What a real local server (llama.cpp) showed, reproduced on the scripted fake server.

Every answer here is scripted test data served by ``tests.fakes.llm_server``; none is a
model's output. ``tests/test_real_model.py`` checks the same points against the real server.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from packet_eval.api import assess_async
from packet_eval.errors import ConfigError, ProviderError
from packet_eval.extractors.llm_schema import ExtractionAnswer
from packet_eval.extractors.request import LLMOptions, default_timeout_s
from packet_eval.packet import load_packet
from tests.fakes.answers import FAST, LADDER, Q_EVAL, SAMPLE, answer, ev
from tests.fakes.llm_server import FakeLLMServer, reply, status

pytestmark = pytest.mark.usefixtures("fake_llm_env")  # `srv` too is in tests/conftest.py

ORDER = ["dimension", "reasoning", "evidence", "level"]


async def run(srv: FakeLLMServer, **kw: Any):
    kw.setdefault("retry", FAST)
    return await assess_async(load_packet(SAMPLE), model="openai/test-model",
                              base_url=srv.openai_base_url, use_cache=False, **kw)


def dimension_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["properties"]["dimensions"]["items"]


def test_answer_schema_is_self_contained_with_every_field_required_in_order():
    schema = ExtractionAnswer.model_json_schema()
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text
    dim = dimension_schema(schema)
    assert list(dim["properties"]) == ORDER and dim["required"] == ORDER
    assert schema["required"] == ["dimensions", "flags"]
    quote = dim["properties"]["evidence"]["items"]
    assert quote["required"] == ["quote", "rationale", "level", "strength", "attribution"]


async def test_the_schema_sent_in_tools_mode_is_the_inlined_one(srv):
    srv.script([reply(answer({}, {}))])
    await run(srv)
    params = srv.model_requests[0].json["tools"][0]["function"]["parameters"]
    assert "$defs" not in json.dumps(params)
    assert dimension_schema(params)["required"] == ORDER


async def test_json_mode_on_a_self_hosted_server_sends_the_schema_as_json_object(srv):
    srv.script([reply(answer({}, {}))])
    with FakeLLMServer() as local:
        local.script([reply(answer({}, {}))])
        await assess_async(load_packet(SAMPLE), model="smollm2", base_url=local.openai_base_url,
                           use_cache=False, retry=FAST, mode="json")
        fmt = local.model_requests[0].json["response_format"]
    assert fmt["type"] == "json_object"
    assert dimension_schema(fmt["schema"])["required"] == ORDER
    await run(srv, mode="json")  # OpenAI itself: the standard json_schema form
    assert srv.model_requests[0].json["response_format"]["type"] == "json_schema"


async def test_a_quote_the_model_rated_none_is_never_shown(srv):
    # Verbatim, so it grounds; but the model itself says it shows no level.
    srv.script([reply(answer({"eval_design": [ev(Q_EVAL, "none", "weak")]}, {"eval_design": "none"}))])
    a = await run(srv)
    assert a.dimensions["eval_design"].evidence == []
    assert all(e.level != "none" for f in a.dimensions.values() for e in f.evidence)


async def test_a_prompt_over_the_server_context_is_one_line_naming_both_sizes(srv):
    # The error llama-cpp-python's server sends when the prompt does not fit.
    body = {"error": {"message": "This model's maximum context length is 8192 tokens, however "
                      "you requested 9105 tokens (9105 in your messages, 0 in the completion). "
                      "Please reduce the length of the messages or completion.",
                      "type": "invalid_request_error", "code": "context_length_exceeded"}}
    srv.script([status(400, body)])
    with pytest.raises(ProviderError) as exc:
        await run(srv)
    msg = str(exc.value)
    assert "\n" not in msg and "9105 tokens" in msg and "8192 tokens" in msg
    assert len(srv.model_requests) == 1


def test_timeout_comes_from_the_environment_and_is_checked(monkeypatch):
    assert default_timeout_s() == 120.0
    monkeypatch.setenv("PACKET_EVAL_TIMEOUT", "600")
    assert LLMOptions().timeout_s == 600.0
    assert LLMOptions(timeout_s=5).timeout_s == 5.0  # the flag wins over the variable
    monkeypatch.setenv("PACKET_EVAL_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="PACKET_EVAL_TIMEOUT"):
        LLMOptions()
    with pytest.raises(ConfigError, match="--mode"):
        LLMOptions(timeout_s=5, mode="grammar")


async def test_a_long_call_reports_progress(srv):
    from tests.fakes.llm_server import delay

    srv.script([delay(0.6, reply(answer({}, {})))])
    waits: list[float] = []
    await run(srv, on_wait=waits.append, progress_every_s=0.2)
    assert waits and all(b > a for a, b in zip(waits, waits[1:], strict=False))


async def test_the_batch_summary_counts_a_failed_packets_calls_as_the_log_does(srv, tmp_path):
    from packet_eval import run_batch
    from packet_eval.store import Store

    cycle = tmp_path / "cycle"
    cycle.mkdir()
    shutil.copy(SAMPLE, cycle / "a.md")
    # Two transient 500s, then a 400: three calls logged, and the packet fails.
    srv.script([status(500, "overloaded 0"), status(500, "overloaded 1")] + [status(400)] * 5)
    s = await run_batch([cycle], tmp_path / "run", model="openai/test-model",
                        base_url=srv.openai_base_url, use_cache=False, retry=FAST,
                        progress=False, concurrency=1)
    logged = Store().count_calls()
    assert len(s.failed) == 1 and logged == 3
    assert s.calls == logged


def test_server_slots_read_from_llama_cpp_props(tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from packet_eval.providers.slots import server_slots

    routes = {"/props": {"total_slots": 3}}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = json.dumps(routes.get(self.path, {})).encode()
            self.send_response(200 if self.path in routes else 404)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        assert server_slots(url) == 3
        routes.clear()
        routes["/openapi.json"] = {"info": {"title": "🦙 llama.cpp Python API"}}
        assert server_slots(url) == 1
        routes.clear()
        assert server_slots(url) is None  # a server that does not tell: --concurrency rules
    finally:
        server.shutdown()
        server.server_close()


async def test_a_self_hosted_server_gets_a_grammar_that_ends():
    # SmolLM2 on llama.cpp wrote one `level` string of digits until max_tokens: the schema
    # sent to a self-hosted server bounds every id, level, string and list.
    with FakeLLMServer() as local:
        local.script([reply(answer({}, {}))])
        await assess_async(load_packet(SAMPLE), model="smollm2", base_url=local.openai_base_url,
                           use_cache=False, retry=FAST, mode="json")
        schema = local.model_requests[0].json["response_format"]["schema"]
    n = len(LADDER.dimension_ids)
    dims = schema["properties"]["dimensions"]
    assert dims["minItems"] == dims["maxItems"] == n
    dim = dimension_schema(schema)["properties"]
    assert dim["dimension"]["enum"] == list(LADDER.dimension_ids)
    assert dim["level"]["enum"] == list(LADDER.scale)
    quote = dim["evidence"]["items"]["properties"]
    assert "none" not in quote["level"]["enum"] and quote["quote"]["maxLength"] > 0
    assert dim["evidence"]["maxItems"] >= 1 and dim["reasoning"]["maxLength"] > 0
    assert schema["properties"]["flags"]["items"]["properties"]["flag"]["enum"] == list(
        LADDER.flag_ids)
    assert list(dimension_schema(schema)["properties"]) == ORDER  # order kept
    # A cloud provider keeps the plain schema (the bounds are for grammar servers).
    assert "maxItems" not in json.dumps(ExtractionAnswer.model_json_schema())


async def test_a_fixed_max_tokens_is_sent_and_a_cut_off_answer_is_one_line(monkeypatch):
    from tests.fakes.llm_server import truncated

    monkeypatch.setenv("PACKET_EVAL_MAX_TOKENS", "700")
    monkeypatch.setenv("PACKET_EVAL_MAX_REASKS", "0")
    with FakeLLMServer() as local:
        local.script([truncated(answer({}, {}))] * 3)
        with pytest.raises(ProviderError) as exc:
            await assess_async(load_packet(SAMPLE), model="smollm2", mode="json",
                               base_url=local.openai_base_url, use_cache=False, retry=FAST)
        sent = [r.json["max_tokens"] for r in local.model_requests]
    assert sent == [700]  # not doubled and asked again: a CPU server cannot carry that
    msg = str(exc.value)
    assert "\n" not in msg and "cut off at 700 tokens" in msg and "PACKET_EVAL_MAX_TOKENS" in msg


async def test_with_no_reasks_the_first_answer_is_final_and_its_junk_is_counted(monkeypatch):
    monkeypatch.setenv("PACKET_EVAL_MAX_REASKS", "0")
    junk = ev("A sentence that is nowhere in the packet.", "senior")
    with FakeLLMServer() as local:
        local.script([reply(answer({"eval_design": [junk, ev(Q_EVAL, "senior")]},
                                   {"eval_design": "senior"}))])
        a = await assess_async(load_packet(SAMPLE), model="smollm2", mode="json",
                               base_url=local.openai_base_url, use_cache=False, retry=FAST)
        assert len(local.model_requests) == 1
    assert a.usage.dropped_ungrounded == 1 and a.usage.validation_retries == 0
    assert [e.quote for e in a.dimensions["eval_design"].evidence] == [Q_EVAL]


@pytest.mark.parametrize(("var", "value"), [("PACKET_EVAL_MAX_TOKENS", "0"),
                                            ("PACKET_EVAL_MAX_TOKENS", "lots"),
                                            ("PACKET_EVAL_MAX_REASKS", "-1")])
def test_bad_caps_in_the_environment_are_one_line(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=var):
        LLMOptions()


def test_the_harness_server_options_go_together():
    from packet_eval.evaluation.inspect_task import packet_extraction_task

    with pytest.raises(ConfigError, match="server_model"):
        packet_extraction_task(extractor="llm", base_url="http://127.0.0.1:9/v1")


@pytest.mark.parametrize("model,own_form", [("llama-cpp-python/smollm2", True),
                                            ("openai-api/fake/smollm2", False)])
def test_the_bridged_harness_sends_llama_cpp_its_own_bounded_form(tmp_path, srv, model, own_form,
                                                                  monkeypatch):
    """Through inspect's agent bridge the client's schema becomes inspect's, which drops the
    bounds and is sent as ``json_schema``; the task's config lays the bounded grammar in
    llama-cpp-python's own form over it, for that provider only."""
    from inspect_ai import eval as inspect_eval

    from packet_eval.extractors.grammar_bounds import bounded_answer_model
    from tests.test_harness import small_dataset

    monkeypatch.setenv("FAKE_API_KEY", "test")
    ids = json.loads((SAMPLE.parents[2] / "datasets" / "golden" / "splits.json").read_text())
    root = small_dataset(tmp_path, [i for i in ids["dev"] if not i.endswith(".clean")][:1])
    srv.script([reply(answer({}, {}))])
    [log] = inspect_eval("packet_eval/packet_extraction", model=model, display="none",
                         model_base_url=srv.openai_base_url, log_dir=str(tmp_path / "logs"),
                         task_args={"dataset": str(root), "split": "all", "extractor": "llm",
                                    "mode": "json", "cache": False})
    assert log.status == "success", log.error
    assert log.results.completed_samples == 1
    [req] = srv.model_requests
    # A server on this machine gets the packet as written, as with --base-url: not redacted.
    from packet_eval.packet import load_packet
    from packet_eval.redact import Redactor

    text = load_packet(next((root / "packets").iterdir())).text
    masked = [text[a:b] for a, b, _ in Redactor.for_text(text).masked_spans(text)]
    assert masked and all(m in req.json["messages"][-1]["content"] for m in masked)
    fmt = req.json["response_format"]
    if own_form:
        assert fmt == {"type": "json_object",
                       "schema": bounded_answer_model(LADDER).model_json_schema()}
        assert fmt["schema"]["properties"]["dimensions"]["maxItems"] == len(LADDER.dimension_ids)
    else:
        assert fmt["type"] == "json_schema" and "maxItems" not in json.dumps(fmt)
