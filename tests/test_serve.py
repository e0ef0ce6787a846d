"""The local preview app: form, results, in-page errors, temp-file hygiene, serve command."""

from __future__ import annotations

import io
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient
from typer.testing import CliRunner

from packet_eval import assess
from packet_eval.ladder import load_ladder
from packet_eval.packet import load_packet
from packet_eval.render.highlight import items_of
from packet_eval.serve import create_app

ROOT = Path(__file__).resolve().parent.parent
PACKETS = ROOT / "datasets" / "golden" / "packets"
DEV_MD = PACKETS / "pkt-002.md"  # a dev-split packet with evidence and flags
DEV_PDF = PACKETS / "pkt-049.pdf"
SAMPLE = ROOT / "packet_eval" / "examples" / "sample-packet.md"


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "PACKET_EVAL_MODEL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PACKET_EVAL_HOME", str(tmp_path / "home"))


@pytest.fixture
def client():
    return TestClient(create_app("baseline", None), base_url="http://127.0.0.1:8765")


def upload(client, name, data, target="senior", model="baseline", **kw):
    return client.post("/assess", files={"file": (name, data, "application/octet-stream")},
                       data={"target_level": target, "model": model}, **kw)


def highlights(html: str) -> dict[str, str]:
    """Each evidence id's pieces joined in document order, as the browser would show them."""
    joined: dict[str, str] = defaultdict(str)
    # Every piece wraps exactly one run of text (nested pieces wrap the same run).
    for mark in BeautifulSoup(html, "html.parser").select("#packet mark[data-ev]"):
        joined[mark["data-ev"]] += mark.get_text()
    return dict(joined)


def expected_quotes(path: Path, a) -> dict[str, str]:
    text = load_packet(path).text
    return {i.key: text[i.start:i.end] for i in items_of(a) if i.kind == "evidence"}


def error_box(html: str) -> str:
    box = BeautifulSoup(html, "html.parser").select_one("#form-error")
    assert box is not None and not box.has_attr("hidden"), "no in-page error shown"
    return box.get_text(" ", strip=True)


def test_index_lists_levels_and_only_the_baseline_without_keys(client):
    r = client.get("/")
    assert r.status_code == 200
    soup = BeautifulSoup(r.text, "html.parser")
    levels = [o["value"] for o in soup.select("#target_level option") if o["value"]]
    assert levels == load_ladder().levels
    assert [o["value"] for o in soup.select("#model option")] == ["baseline"]
    assert soup.select_one("#file") is not None and soup.select_one("#text") is not None
    assert r.headers["cache-control"] == "no-store"
    assert "script-src 'nonce-" in r.headers["content-security-policy"]


def test_index_offers_llm_defaults_only_when_keys_are_set(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    r = TestClient(create_app(None, None), base_url="http://localhost").get("/")
    values = [o["value"] for o in BeautifulSoup(r.text, "html.parser").select("#model option")]
    assert values[0] == "baseline"
    assert any(v.startswith("openai/") for v in values)
    assert any(v.startswith("anthropic/") for v in values)


@pytest.mark.parametrize("path", [DEV_MD, DEV_PDF], ids=["md", "pdf"])
def test_upload_shows_every_evidence_span_with_its_quote(client, path):
    expected = assess(path, model="baseline", target_level="senior")
    r = upload(client, path.name, path.read_bytes())
    assert r.status_code == 200, error_box(r.text)
    got = highlights(r.text)
    assert len(got) == expected.evidence_count() > 0
    assert got == expected_quotes(path, expected)
    soup = BeautifulSoup(r.text, "html.parser")
    gaps = {li["data-dimension"] for li in soup.select("#gaps li[data-dimension]")}
    assert gaps == {g.dimension for g in expected.gaps}
    assert "Nothing left this machine" in soup.select_one("#privacy-note").get_text()
    assert r.headers["cache-control"] == "no-store"


def test_pasted_text_gives_the_same_result_as_the_file(client):
    text = SAMPLE.read_text(encoding="utf-8")
    expected = assess(SAMPLE, model="baseline", target_level="staff")
    r = client.post("/assess", data={"text": text, "target_level": "staff", "model": "baseline"})
    assert r.status_code == 200, error_box(r.text)
    assert len(highlights(r.text)) == expected.evidence_count()
    assert sorted(highlights(r.text).values()) == sorted(
        ev.quote for f in expected.dimensions.values() for ev in f.evidence)


def _encrypted_pdf() -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(200, 200)
    w.encrypt("secret", algorithm="RC4-128")
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


@pytest.mark.parametrize(("name", "data", "status", "needle"), [
    ("binary.md", bytes(range(256)) * 8, 422, "binary"),
    ("empty.md", b"", 422, "empty"),
    ("blank.txt", b"   \n\n  ", 422, "empty"),
    ("latin1.md", "Caf\u00e9 r\u00e9sum\u00e9: I built the eval harness.".encode("latin-1"), 422,
     "UTF-8"),
    ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), 415, "Unsupported file type"),
    ("not-a.pdf", b"hello, not a pdf", 422, "not a PDF"),
    ("locked.pdf", None, 422, "password"),
], ids=["binary", "empty", "blank", "non-utf8", "unsupported", "fake-pdf", "encrypted-pdf"])
def test_bad_files_give_an_in_page_error(client, name, data, status, needle):
    r = upload(client, name, _encrypted_pdf() if data is None else data)
    assert r.status_code == status
    message = error_box(r.text)
    assert needle.lower() in message.lower()
    assert message.count(name) == 1  # named by what was uploaded, not a temp path
    assert "Traceback" not in r.text and "File \"" not in r.text
    assert BeautifulSoup(r.text, "html.parser").select_one("#assess-form") is not None


def test_nothing_to_assess_and_bad_choices_are_400(client):
    r = client.post("/assess", data={"text": "   ", "target_level": "senior"})
    assert r.status_code == 400 and "Nothing to assess" in error_box(r.text)
    r = client.post("/assess", data={"text": "I built it.", "target_level": "principal"})
    assert r.status_code == 400 and "Unknown target level" in error_box(r.text)
    r = client.post("/assess", data={"text": "I built it.", "model": "openai/gpt-4.1-mini"})
    assert r.status_code == 400 and "not offered" in error_box(r.text)


def test_oversized_uploads_are_refused_early_and_while_streaming():
    small = TestClient(create_app("baseline", None, max_upload_bytes=1000),
                       base_url="http://127.0.0.1")
    # Over the file limit but within the form overhead: caught after parsing.
    r = upload(small, "big.md", b"I built the eval harness. " * 60)
    assert r.status_code == 413 and "1,000 bytes" in error_box(r.text)
    # Content-Length over the limit: refused before the body is read.
    r = upload(small, "huge.md", b"x" * 200_000)
    assert r.status_code == 413 and "File too large" in error_box(r.text)
    # No Content-Length (chunked): counted while streaming.
    boundary = "pe-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"stream.md\"\r\nContent-Type: text/markdown\r\n\r\n").encode()

    def body():
        yield head
        for _ in range(100):
            yield b"y" * 4096
        yield f"\r\n--{boundary}--\r\n".encode()

    r = small.post("/assess", content=body(),
                   headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413 and "File too large" in error_box(r.text)
    # Pasted text is limited too.
    r = small.post("/assess", data={"text": "I shipped it. " * 200})
    assert r.status_code == 413


def test_uploads_only_touch_a_temp_dir_that_is_removed(client, monkeypatch, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    made: list[str] = []
    real = tempfile.TemporaryDirectory

    class Spy(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self.name)

    monkeypatch.setattr(tempfile, "TemporaryDirectory", Spy)
    assert upload(client, DEV_MD.name, DEV_MD.read_bytes()).status_code == 200
    assert upload(client, DEV_PDF.name, DEV_PDF.read_bytes()).status_code == 200
    assert upload(client, "bad.md", b"\x00\x01" * 100).status_code == 422
    assert len(made) == 3
    assert all(Path(m).parent == tmp and not Path(m).exists() for m in made)
    assert list(tmp.iterdir()) == []
    # No call log or cache is written for the baseline either.
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").iterdir())


def test_cross_site_posts_and_foreign_hosts_are_refused(client):
    r = client.post("/assess", data={"text": "I built it."},
                    headers={"origin": "http://attacker.example"})
    assert r.status_code == 403 and "Cross-site" in error_box(r.text)
    r = client.post("/assess", data={"text": "I built it.", "target_level": "senior"},
                    headers={"origin": "http://127.0.0.1:8765"})
    assert r.status_code == 200
    rebound = TestClient(create_app("baseline", None), base_url="http://attacker.example")
    assert rebound.get("/").status_code == 400


def test_get_on_assess_goes_back_to_the_form(client):
    r = client.get("/assess", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


@pytest.fixture
def cli_app():
    from packet_eval.cli import app

    assert sum(1 for c in app.registered_commands if c.name == "serve") == 1
    return app


@pytest.fixture
def fake_uvicorn(monkeypatch):
    import uvicorn

    import packet_eval

    calls: list[dict] = []

    def run(server, sockets=None):
        cfg = server.config
        calls.append({"app": cfg.app, "host": cfg.host, "port": cfg.port, "sockets": sockets})

    monkeypatch.setattr(uvicorn.Server, "run", run)
    # No real port is taken: the bind is the one thing this fixture does not exercise.
    monkeypatch.setattr(packet_eval, "listen_socket", lambda host, port: ("sock", host, port),
                        raising=False)
    return calls


def test_a_busy_port_is_one_line_and_no_banner(cli_app):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli_app, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}" in lines[0]
    assert "--port" in lines[0] and "preview on" not in result.stderr
    assert "Traceback" not in result.output


def test_non_loopback_bind_prints_the_warning(cli_app, fake_uvicorn):
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--port", "9999",
                                          "--model", "baseline"])
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.stderr
    assert "Anyone who can reach 0.0.0.0:9999 can upload packets" in result.stderr
    assert "personal data" in result.stderr
    assert fake_uvicorn[0]["host"] == "0.0.0.0" and fake_uvicorn[0]["port"] == 9999
    # An exposed server answers whatever name it is reached by.
    lan = TestClient(fake_uvicorn[0]["app"], base_url="http://192.168.1.20:9999")
    assert lan.get("/").status_code == 200


def test_loopback_bind_is_the_default_and_quiet(cli_app, fake_uvicorn):
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.stderr
    assert "http://127.0.0.1:8765/" in result.stderr
    assert fake_uvicorn[0]["host"] == "127.0.0.1" and fake_uvicorn[0]["port"] == 8765
    app = fake_uvicorn[0]["app"]
    assert TestClient(app, base_url="http://127.0.0.1:8765").get("/").status_code == 200
    assert TestClient(app, base_url="http://evil.example").get("/").status_code == 400


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("my-laptop.lan", False)])
def test_is_loopback(host, loopback):
    from packet_eval.serve import is_loopback

    assert is_loopback(host) is loopback


def test_bind_policy_lives_in_serve():
    from packet_eval.serve import allowed_hosts_for, exposure_warning, server_url

    assert exposure_warning("127.0.0.1", 8765) is None
    assert "Anyone who can reach 0.0.0.0:9999" in (exposure_warning("0.0.0.0", 9999) or "")
    assert allowed_hosts_for("0.0.0.0") == ["*"]
    assert "127.0.0.1" in allowed_hosts_for("127.0.0.1") and "[::1]" in allowed_hosts_for("::1")
    assert server_url("::1", 8765) == "http://[::1]:8765/"
    assert server_url("127.0.0.1", 8765) == "http://127.0.0.1:8765/"


def test_bad_ladder_fails_before_serving(cli_app, fake_uvicorn, tmp_path):
    bad = tmp_path / "ladder.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["serve", "--ladder", str(bad)])
    assert result.exit_code == 1 and "error:" in result.stderr
    assert fake_uvicorn == []
