"""Throughput, cache and memory of `packet-eval assess` against a local OpenAI-compatible server.

The server is tests.fakes.llm_server in its own process: a fixed latency per call
(200 ms) and a concurrency cap that answers 429 above it, serving scripted answers
that quote each packet's own lines (so the client does its real validation,
grounding and assembly work). Figures, written to benchmarks/results/throughput.json:

- throughput: N packets at --concurrency equal to the cap; wall time against the
  ideal N x latency / concurrency (goal <= 1.15x), and the overhead per packet;
- naive: the sequential loop (one `assess_async` per packet, a new client each
  time, as a script would do), timed on a subset and extrapolated to N;
- storm: the same N at twice the cap's concurrency, so the provider answers 429
  and the adaptive limit has to find the cap;
- cache: the same N again into a new run directory (goal < 5 s, 0 calls), and
  a resume of the finished run;
- memory: peak RSS of a child process assessing 1,000 and 5,000 packets against a
  zero-latency server, against the RSS of a child that only imports the same code.

The fake server's handler sends headers and body in two writes, which with Nagle's
algorithm and delayed ACKs adds ~40 ms to every call; no real provider does that,
so the benchmark starts it with TCP_NODELAY (``server_tcp_nodelay`` in the output).

Run: uv run --frozen python benchmarks/throughput.py   (about two minutes)

``--committee`` runs only issue 16's bar through the CLI (240 packets, 300 ms, cap 8): wall
ratios, and the CPU time of each CLI process per packet and of the fake server per call,
with the load average, because wall time on a shared machine moves with other jobs' load.
``--profile`` adds cProfile tops of a live run and a cached rerun (in this process).
``--cpu-in-process`` prints only the client CPU per packet of a live run in this process
(warm imports, 0 ms server), the figure least moved by other load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "throughput.json"
MODEL = "openai/gpt-4.1-mini"
SEQUENTIAL_SUBSET = 25
GOAL_RATIO = 1.15
GOAL_CACHE_S = 5.0
GOAL_COMMITTEE_CACHE_S = 3.0

_WORDS = ("eval", "retrieval", "latency", "regression", "harness", "index", "prompt", "agent",
          "rollout", "rubric", "dataset", "incident", "shard", "reranker", "guardrail", "budget")


# ------------------------------------------------------------------ the scripted server answer


def grounded(req: dict[str, Any]) -> dict[str, Any]:
    """An ExtractionAnswer quoting the packet's own lines (runs inside the server process)."""
    msgs = req["messages"]
    system = next(m["content"] for m in msgs if m["role"] == "system")
    user = next(m["content"] for m in msgs if m["role"] == "user")
    dims = re.search(r"Return every dimension id exactly once: ([a-z_, ]+)\.", system)
    ids = [d.strip() for d in dims.group(1).split(",")] if dims else []
    m = re.search(r"<packet-(\w+)>\n(.*)\n</packet-\1>", user, re.S)
    lines = [ln.strip("- ").strip() for ln in (m.group(2) if m else "").splitlines()
             if len(ln.split()) >= 6]
    out = []
    for i, d in enumerate(ids):
        ev = [{"quote": lines[i % len(lines)], "rationale": "scripted", "strength": "strong",
               "level": ("junior", "mid", "senior", "staff")[i % 4],
               "attribution": "individual"}] if lines and i < 4 else []
        out.append({"dimension": d, "reasoning": "scripted", "evidence": ev,
                    "level": ev[0]["level"] if ev else "none"})
    return {"dimensions": out, "flags": []}


# ------------------------------------------------------------------ helpers


def make_packets(folder: Path, n: int, tag: str = "") -> list[Path]:
    """n small synthetic packets (~1,000 characters), each different (``tag`` varies a set)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        w = [_WORDS[(i * 7 + k) % len(_WORDS)] for k in range(12)]
        text = (f"# Packet {tag}{i}\n\nTeam {i % 37}. Asking for: senior.\n\n"
                f"- I designed the {w[0]} {w[1]} for service {i} and it now gates every release.\n"
                f"- I traced {w[2]} {w[3]} number {i} to a stale {w[4]} and added a check for it.\n"
                f"- I rewrote the {w[5]} {w[6]} so that {i % 9 + 2} teams reuse it every week.\n"
                f"- I mentored {i % 5 + 1} engineers on {w[7]} {w[8]} reviews this year.\n"
                f"- We shipped the {w[9]} {w[10]} with {i % 40 + 10}% fewer incidents.\n")
        p = folder / f"packet-{i:05d}.md"
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return paths


class Server:
    """tests.fakes.llm_server in a subprocess, with TCP_NODELAY (see the module docstring)."""

    def __init__(self, latency_ms: float, cap: int | None, retry_after: str = "0.2") -> None:
        code = ("import sys, tests.fakes.llm_server as s; "
                "s._Handler.disable_nagle_algorithm = True; raise SystemExit(s.main(sys.argv[1:]))")
        args = ["--latency-ms", str(latency_ms), "--retry-after", retry_after,
                "--echo-handler", "throughput:grounded"]
        if cap:
            args += ["--max-concurrency", str(cap)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")])}
        self.proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://"):
            raise RuntimeError(f"the fake server did not start: {self.proc.stderr.read()}")  # type: ignore[union-attr]

    def cpu_s(self) -> float | None:
        """CPU time the server process has used so far (Linux only)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> dict[str, int]:
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=30)
        return json.loads(err.strip().splitlines()[-1])


async def _run(paths: list[Path], out: Path, url: str, concurrency: int, **kw: Any) -> Any:
    from packet_eval.batch import run_batch

    return await run_batch(paths, out, model=MODEL, base_url=f"{url}/v1", concurrency=concurrency,
                           progress=False, **kw)


def timed_run(paths: list[Path], out: Path, url: str, concurrency: int, **kw: Any
              ) -> tuple[float, float, Any]:
    cpu0, t0 = time.process_time(), time.perf_counter()
    summary = asyncio.run(_run(paths, out, url, concurrency, **kw))
    return time.perf_counter() - t0, time.process_time() - cpu0, summary


async def naive_loop(paths: list[Path], url: str, out: Path) -> float:
    """What a script would do: one assess_async after another, appending JSON lines."""
    from packet_eval.api import assess_async

    t0 = time.perf_counter()
    with out.open("w", encoding="utf-8") as fh:
        for p in paths:
            a = await assess_async(p, model=MODEL, base_url=f"{url}/v1", use_cache=False)
            fh.write(a.model_dump_json() + "\n")
    return time.perf_counter() - t0


def peak_rss_mb() -> float:
    # ru_maxrss is kilobytes on Linux, bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def memory_child(n: int, url: str, folder: Path, imports_only: bool) -> None:
    """Run in a fresh process: assess n packets (or only import), print JSON with peak RSS."""
    import packet_eval.batch
    import packet_eval.batch.outputs
    import packet_eval.report.committee  # noqa: F401  (the same code as a real run)

    paths = sorted(folder.glob("*.md"))[:n]
    result: dict[str, Any] = {"n": n, "imports_only": imports_only}
    if not imports_only:
        t0 = time.perf_counter()
        s = asyncio.run(_run(paths, folder.parent / f"out-{n}", url, 16, use_cache=False))
        result.update(wall_s=round(time.perf_counter() - t0, 2), done=s.done, failed=len(s.failed),
                      report_mb=round((folder.parent / f"out-{n}" / "report.html").stat().st_size
                                      / 1e6, 1))
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(result))


def run_child(n: int, url: str, folder: Path, home: Path, imports_only: bool = False
              ) -> dict[str, Any]:
    env = {**os.environ, "PACKET_EVAL_HOME": str(home), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-child", str(n),
           "--url", url, "--dir", str(folder)] + (["--imports-only"] if imports_only else [])
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ the benchmark


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cli(*args: str, env: dict[str, str], cpu: list[float] | None = None) -> float:
    """Wall time of one ``packet-eval`` process (the installed CLI, as a committee runs it).

    With ``cpu``, the process's CPU time (user + system) is appended to it: less
    sensitive than wall time to other jobs on a shared machine.
    """
    c0, t0 = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "packet_eval", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    if cpu is not None:
        cpu.append(_children_cpu() - c0)
    return wall


def committee(n: int, latency_ms: float, conc: int, profile: bool) -> dict[str, Any]:
    """Issue 16's committee bar, through the CLI: a live run, then a cached rerun of the same packets.

    The cached rerun goes to a new --out (every packet from the call cache, 0 calls);
    its work beyond process start-up is its wall time minus the median of three
    ``packet-eval --version`` processes (interpreter, packet_eval and the CLI imported).
    """
    with tempfile.TemporaryDirectory(prefix="packet-eval-committee-") as raw_tmp:
        tmp = Path(raw_tmp)
        env = {**os.environ, "PACKET_EVAL_HOME": str(tmp / "home"), "NO_COLOR": "1"}
        # A user's install keeps compiled bytecode; a session with PYTHONDONTWRITEBYTECODE
        # would recompile every imported module in every process (seconds, not the tool's).
        for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "PACKET_EVAL_MODEL",
                  "PYTHONDONTWRITEBYTECODE"):
            env.pop(k, None)
        paths = make_packets(tmp / "packets", n)
        make_packets(tmp / "warm", conc, tag="warm-")
        server = Server(latency_ms, conc)
        base = ["assess", str(tmp / "packets"), "--model", MODEL, "--base-url",
                f"{server.url}/v1", "--concurrency", str(conc), "--no-progress"]
        # Warm-up (other packets, another home): bytecode and the OS file cache, outside every figure.
        cli(*base[:1], str(tmp / "warm"), *base[2:], "--out", str(tmp / "warm-out"),
            env={**env, "PACKET_EVAL_HOME": str(tmp / "home-warm")})
        up_cpu: list[float] = []
        startup = sorted(cli("--version", env=env, cpu=up_cpu) for _ in range(3))[1]
        load_before = os.getloadavg()[0]
        cpu: list[float] = []
        server_cpu0 = server.cpu_s()
        live = cli(*base, "--out", str(tmp / "live"), env=env, cpu=cpu)
        server_cpu1 = server.cpu_s()
        live_calls = server.stop()["calls"] - conc  # less the warm-up's calls
        server = Server(latency_ms, conc)
        base[base.index("--base-url") + 1] = f"{server.url}/v1"
        cached = cli(*base, "--out", str(tmp / "cached"), env=env, cpu=cpu)
        cached_calls = server.stop()["calls"]
        load_after = os.getloadavg()[0]
        lines = [(tmp / d / "assessments.jsonl").read_text().count("\n") for d in ("live", "cached")]
        rows = len(call_log_rows(tmp / "home"))
        ideal = n * latency_ms / 1000 / conc
        out: dict[str, Any] = {
            "n_packets": n, "latency_ms": latency_ms, "concurrency": conc, "server_cap": conc,
            "live_wall_s": round(live, 2), "ideal_s": round(ideal, 2),
            "live_ratio_vs_ideal": round(live / ideal, 3), "goal_ratio": GOAL_RATIO,
            "startup_s": round(startup, 3), "cached_wall_s": round(cached, 2),
            "cached_work_beyond_startup_s": round(cached - startup, 2),
            "goal_cached_s": GOAL_COMMITTEE_CACHE_S, "live_calls": live_calls,
            "cached_calls": cached_calls, "result_lines": lines, "call_log_rows": rows,
            # Beyond start-up: the same ratio less one `--version` process (the interpreter,
            # packet_eval and the CLI imported), which no amount of batching can hide.
            "live_ratio_beyond_startup": round((live - startup) / ideal, 3),
            "startup_cpu_s": round(sorted(up_cpu)[1], 3),
            "live_cpu_s": round(cpu[0], 2),
            "live_cpu_per_packet_ms": round(cpu[0] / n * 1000, 1),
            "live_cpu_per_packet_beyond_startup_ms": round((cpu[0] - sorted(up_cpu)[1]) / n
                                                           * 1000, 1),
            "cached_cpu_s": round(cpu[1], 2),
            "cached_cpu_beyond_startup_s": round(cpu[1] - sorted(up_cpu)[1], 2),
            "server_cpu_per_call_ms": (round((server_cpu1 - server_cpu0) / n * 1000, 1)
                                       if server_cpu0 is not None and server_cpu1 is not None
                                       else None),
            "load_average_1min": [round(load_before, 2), round(load_after, 2)],
            "cpus": os.cpu_count(),
        }
        if profile:
            out["profile_top"] = profile_cached(paths, tmp)
            out["profile_live_top"] = profile_live(paths, tmp, latency_ms, conc)
        assert lines == [n, n] and cached_calls == 0 and rows == live_calls, out
        return out


def call_log_rows(home: Path) -> list[tuple[Any, ...]]:
    import sqlite3

    with sqlite3.connect(home / "logs.db") as db:
        return db.execute("select id from calls").fetchall()


def profile_cached(paths: list[Path], tmp: Path, top: int = 18) -> list[str]:
    """cProfile of a cached rerun in this process: the functions with the most own time."""
    import cProfile
    import io
    import pstats

    os.environ["PACKET_EVAL_HOME"] = str(tmp / "home")
    server = Server(0, None)
    prof = cProfile.Profile()
    prof.enable()
    timed_run(paths, tmp / "cached-profiled", server.url, 8)
    prof.disable()
    server.stop()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return [ln for ln in buf.getvalue().splitlines() if ln.strip()][-top - 1:]


def profile_live(paths: list[Path], tmp: Path, latency_ms: float, conc: int, top: int = 22
                 ) -> list[str]:
    """cProfile of a live run in this process (new home: nothing cached), by own time.

    The server is its own process, as in the timed runs, so its CPU is not in here.
    """
    import cProfile
    import io
    import pstats

    os.environ["PACKET_EVAL_HOME"] = str(tmp / "home-profiled-live")
    server = Server(latency_ms, conc)
    prof = cProfile.Profile()
    prof.enable()
    timed_run(paths, tmp / "live-profiled", server.url, conc)
    prof.disable()
    server.stop()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return [ln for ln in buf.getvalue().splitlines() if ln.strip()][-top - 1:]


def cpu_in_process(n: int = 240, conc: int = 8) -> dict[str, Any]:
    """Client CPU per packet of a live run in this process (imports warm, outputs included).

    Against the fake server at 0 ms latency, after a warm-up run on other packets: only the
    client's own work per packet, without start-up or import costs (``--cpu-in-process``).
    """
    with tempfile.TemporaryDirectory(prefix="packet-eval-cpu-") as raw_tmp:
        tmp = Path(raw_tmp)
        server = Server(0, None)
        os.environ["PACKET_EVAL_HOME"] = str(tmp / "home-warm")
        timed_run(make_packets(tmp / "warm", 2 * conc, tag="warm-"), tmp / "warm-out",
                  server.url, conc)
        os.environ["PACKET_EVAL_HOME"] = str(tmp / "home")
        wall, cpu, summary = timed_run(make_packets(tmp / "packets", n), tmp / "live", server.url,
                                       conc)
        server.stop()
    assert summary.done == n and summary.calls == n, summary
    return {"n_packets": n, "concurrency": conc, "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2), "cpu_per_packet_ms": round(cpu / n * 1000, 1),
            "load_average_1min": round(os.getloadavg()[0], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description="Throughput, cache and memory benchmark.")
    ap.add_argument("--committee", action="store_true",
                    help="Only issue 16's committee bar through the CLI (240 packets, 300 ms, 8).")
    ap.add_argument("--profile", action="store_true", help="With --committee: profile the cached rerun.")
    ap.add_argument("--cpu-in-process", action="store_true",
                    help="Only the client CPU per packet of a live run in this process.")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--latency-ms", type=float, default=200.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--memory-sizes", default="1000,5000")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    ap.add_argument("--imports-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child is not None:
        memory_child(args.memory_child, args.url, Path(args.dir), args.imports_only)
        return
    if args.cpu_in_process:
        print(json.dumps(cpu_in_process(), indent=2))
        return
    if args.committee:
        res = committee(240, 300.0, 8, args.profile)
        path = OUT.with_name("committee.json")
        path.write_text(json.dumps(res, indent=2) + "\n")
        print(json.dumps(res, indent=2))
        print(f"live: {res['live_ratio_vs_ideal']}x ideal (goal <= {GOAL_RATIO}x), "
              f"{res['live_ratio_beyond_startup']}x beyond start-up, "
              f"{res['live_cpu_per_packet_ms']} ms CPU per packet; cached rerun: "
              f"{res['cached_work_beyond_startup_s']} s beyond start-up (goal < "
              f"{GOAL_COMMITTEE_CACHE_S} s), {res['cached_cpu_beyond_startup_s']} s CPU; "
              f"load average {res['load_average_1min']} on {res['cpus']} CPUs")
        return

    n, latency, conc = args.n, args.latency_ms / 1000, args.concurrency
    ideal = n * latency / conc
    result: dict[str, Any] = {
        "n_packets": n, "latency_ms": args.latency_ms, "concurrency": conc,
        "server_concurrency_cap": conc, "server_tcp_nodelay": True, "model": MODEL,
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
    }
    with tempfile.TemporaryDirectory(prefix="packet-eval-bench-") as raw_tmp:
        tmp = Path(raw_tmp)
        os.environ["PACKET_EVAL_HOME"] = str(tmp / "home")
        paths = make_packets(tmp / "packets", n)
        warm = make_packets(tmp / "warm", conc, tag="warm-")

        server = Server(args.latency_ms, conc)
        # Warm-up: imports, templates and the connection pool, outside every figure.
        timed_run(warm, tmp / "out-warm", server.url, conc, use_cache=False)
        wall, cpu, s = timed_run(paths, tmp / "out-live", server.url, conc)
        assert s.done == n and not s.failed, (s.done, s.failed)
        seq = asyncio.run(naive_loop(paths[:SEQUENTIAL_SUBSET], server.url, tmp / "naive.jsonl"))
        stats = server.stop()
        per_packet_naive = seq / SEQUENTIAL_SUBSET
        result["throughput"] = {
            "wall_s": round(wall, 2), "ideal_s": round(ideal, 2),
            "ratio_vs_ideal": round(wall / ideal, 3), "goal_ratio": GOAL_RATIO,
            "meets_goal": wall / ideal <= GOAL_RATIO,
            "packets_per_s": round(n / wall, 1),
            "overhead_per_packet_ms": round((wall - ideal) * conc / n * 1000, 1),
            "client_cpu_per_packet_ms": round(cpu / n * 1000, 2),
            "calls": s.calls, "rate_limited_429": s.rate_limited,
            "server": stats,
        }
        result["naive_sequential"] = {
            "measured_packets": SEQUENTIAL_SUBSET, "measured_s": round(seq, 2),
            "per_packet_ms": round(per_packet_naive * 1000, 1),
            "extrapolated_wall_s": round(per_packet_naive * n, 1),
            "speedup": round(per_packet_naive * n / wall, 1),
            "note": f"measured on the first {SEQUENTIAL_SUBSET} packets and extrapolated to {n}",
        }

        server = Server(args.latency_ms, conc)
        cwall, _, cs = timed_run(paths, tmp / "out-cache", server.url, conc)
        rwall, _, rs = timed_run(paths, tmp / "out-live", server.url, conc)
        cstats = server.stop()
        result["cache"] = {
            "wall_s": round(cwall, 2), "goal_s": GOAL_CACHE_S, "meets_goal": cwall < GOAL_CACHE_S,
            "cached": cs.cached, "calls": cs.calls, "server_calls": cstats["calls"],
            "resume_of_finished_run_s": round(rwall, 2), "resume_skipped": rs.skipped,
        }
        assert cs.cached == n and cstats["calls"] == 0

        os.environ["PACKET_EVAL_HOME"] = str(tmp / "home-storm")
        server = Server(args.latency_ms, conc, retry_after="0.2")
        timed_run(warm, tmp / "out-warm-storm", server.url, conc, use_cache=False)
        swall, _, ss = timed_run(paths, tmp / "out-storm", server.url, conc * 2)
        sstats = server.stop()
        result["storm"] = {
            "concurrency": conc * 2, "server_cap": conc, "wall_s": round(swall, 2),
            "ratio_vs_ideal": round(swall / ideal, 3), "done": ss.done, "failed": len(ss.failed),
            "rate_limited_429": ss.rate_limited, "gate_pauses": ss.throttled,
            "lowest_concurrency": ss.lowest_concurrency, "server": sstats,
        }

        if not args.skip_memory:
            sizes = [int(x) for x in args.memory_sizes.split(",")]
            folder = tmp / "mem" / "packets"
            make_packets(folder, max(sizes))
            server = Server(0, None)
            mem: dict[str, Any] = {"server_latency_ms": 0,
                                   "imports_only": run_child(0, server.url, folder,
                                                             tmp / "home-mem", True)}
            for size in sizes:
                mem[str(size)] = run_child(size, server.url, folder, tmp / f"home-mem-{size}")
            server.stop()
            lo, hi = mem[str(sizes[0])], mem[str(sizes[-1])]
            extra = hi["peak_rss_mb"] - lo["peak_rss_mb"]
            mem["growth_mb"] = round(extra, 1)
            mem["growth_kb_per_extra_packet"] = round(extra * 1024 / (sizes[-1] - sizes[0]), 1)
            result["memory"] = mem

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
