"""Work the live extractor does once, not per call (the committee bar, issue 16).

Given a plain pydantic model, instructor wraps it in a new ResponseSchema subclass on every
call, so its cached tool schema is never reused and each call rebuilt the class and its
JSON schema. The extractor passes one wrapper made once per process instead; the requests
it sends are unchanged.
"""

from __future__ import annotations

import instructor.v2.core.function_calls as function_calls
import pytest
from instructor import ResponseSchema

from packet_eval.api import assess_async
from packet_eval.extractors.llm import response_model
from packet_eval.extractors.llm_schema import ExtractionAnswer
from packet_eval.packet import packet_from_text
from tests.fakes.llm_server import FakeLLMServer

pytestmark = pytest.mark.usefixtures("fake_llm_env")

TEXT = ("I built the eval harness that gates every release of the assistant, and I chose its "
        "failure taxonomy after reading two hundred transcripts myself.")


async def test_three_extractions_wrap_the_answer_model_at_most_once(monkeypatch):
    wrapped: list[type] = []
    original = function_calls.response_schema

    def counting(cls):
        wrapped.append(cls)
        return original(cls)

    monkeypatch.setattr(function_calls, "response_schema", counting)
    with FakeLLMServer() as srv:
        for i in range(3):
            packet = packet_from_text(f"{TEXT} Packet {i}.", f"p{i}", f"p{i}.md", "md")
            await assess_async(packet, model="openai/test-model", base_url=srv.openai_base_url,
                               use_cache=False)
        tools = [r.json["tools"] for r in srv.model_requests]
    assert len(tools) == 3 and tools[0] == tools[1] == tools[2]
    assert tools[0][0]["function"]["name"] == "ExtractionAnswer"
    assert len(wrapped) <= 1, f"the answer model was wrapped {len(wrapped)} times"
    model = response_model()
    assert model is response_model() and issubclass(model, ExtractionAnswer)
    assert issubclass(model, ResponseSchema)  # so instructor does not wrap it again


async def test_a_live_run_prepares_its_outputs_once_while_calls_wait_and_a_cached_rerun_never(
        tmp_path, monkeypatch):
    import packet_eval.batch.run as batch_run
    from packet_eval.batch import run_batch

    started: list[str] = []
    monkeypatch.setattr(batch_run, "prepare_outputs", lambda *_: started.append("prepared"))
    folder = tmp_path / "packets"
    folder.mkdir()
    for i in range(3):
        (folder / f"p{i}.md").write_text(f"{TEXT} Packet {i}.\n", encoding="utf-8")
    paths = sorted(folder.iterdir())
    with FakeLLMServer() as srv:
        live = await run_batch(paths, tmp_path / "live", model="openai/test-model",
                               base_url=srv.openai_base_url, concurrency=2, progress=False)
        assert live.done == 3 and live.calls == 3 and started == ["prepared"]
        cached = await run_batch(paths, tmp_path / "cached", model="openai/test-model",
                                 base_url=srv.openai_base_url, concurrency=2, progress=False)
    assert cached.cached == 3 and cached.calls == 0 and started == ["prepared"]
    for out in ("live", "cached"):  # the outputs are written either way, once
        assert (tmp_path / out / "report.html").exists()
        assert (tmp_path / out / "assessments.jsonl").read_text().count("\n") == 3


def test_report_templates_compile_once_into_the_call_logs_folder_and_load_from_there(
        tmp_path, monkeypatch):
    from packet_eval.batch.outputs import REPORT_TEMPLATES, load_templates
    from packet_eval.render.html import environment

    env = environment()
    env.cache.clear()  # other tests of this process may have compiled them already
    load_templates(tmp_path / "cache")
    files = sorted((tmp_path / "cache").iterdir())
    assert len(files) == len(REPORT_TEMPLATES)
    assert env.bytecode_cache is None  # attached only while they load: serve writes nothing
    env.cache.clear()
    compiled: list[str] = []
    original = env._compile  # noqa: SLF001 - the one place jinja turns source into code

    def counting(source, filename):
        compiled.append(filename)
        return original(source, filename)

    monkeypatch.setattr(env, "_compile", counting)
    load_templates(tmp_path / "cache")
    assert compiled == [], f"compiled again: {compiled}"
    env.cache.clear()
    load_templates(None)
    assert len(compiled) == len(REPORT_TEMPLATES)
