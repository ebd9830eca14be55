#!/usr/bin/env bash
# Packs what an offline GPU box (x86-64 Linux, NVIDIA GPU, PyTorch for python3, g++; no Node, no network) needs to
# run the lab into one folder, with run.sh to run there:
#   - the torch engine: a compressed Node binary, the lab bundled by esbuild (bench.mjs, main.mjs for the CLI,
#     device-check.mjs), the addon's source (native/torch/src, paths.cjs, stamp.cjs, scripts/build-torch.mjs), Node's headers
#     (include/node without OpenSSL's) and node-addon-api's, bench/pytorch_bench.py for --vs-pytorch, configs/;
#     run.sh builds the addon with g++ against the box's PyTorch (its include/ and lib/) and points the bundles
#     at it through ARITH_TORCH_ADDON;
#   - the webgpu engine (unless --no-webgpu): the `webgpu` package's Linux x64 binary (Dawn), tfjs's wasm files and
#     Debian's Vulkan/GL loader packages.
#   scripts/gpu-bundle.sh [--no-webgpu] [OUT_DIR]      (default .gpu; about 50 MB, 44 MB without webgpu)
# On the box: bash OUT_DIR/run.sh [torch] [webgpu]   (default torch; see run.sh's header for what runs)
set -euo pipefail
cd "$(dirname "$0")/.."
webgpu=1
out=.gpu
for arg in "$@"; do
  case "$arg" in
    --no-webgpu) webgpu=0 ;;
    -*) echo "gpu-bundle.sh: unknown option $arg" >&2; exit 2 ;;
    *) out=$arg ;;
  esac
done
extra=$(mktemp -d)
trap 'rm -rf "$extra"' EXIT

# Node's headers for the addon's build on the box: those of the Node packed here (N-API is stable across versions
# anyway). NODE_HEADERS names a folder holding include/node; else the install's, npm's nodedir, node-gyp's cache.
node_bin=$(command -v node)
node_version=$(node -p process.versions.node)
headers=""
for dir in ${NODE_HEADERS:-} "$(dirname "$node_bin")/.." "$(npm config get nodedir 2>/dev/null || true)" "$HOME/.cache/node-gyp/$node_version"; do
  if [ -n "$dir" ] && [ -f "$dir/include/node/node_api.h" ]; then headers=$(cd "$dir" && pwd); break; fi
done
[ -n "$headers" ] || { echo "gpu-bundle.sh: no Node headers (include/node/node_api.h) found; set NODE_HEADERS" >&2; exit 1; }

rm -rf "$out" && mkdir -p "$out/node_modules/@tensorflow/tfjs-backend-wasm/dist" "$out/node_modules/node-addon-api" \
  "$out/node-headers/include" "$out/native/torch" "$out/scripts" "$out/bench"

# The CommonJS parts of tfjs read require and __dirname, which an ES module bundle must define.
banner="import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
esbuild_webgpu=(--external:@tensorflow/tfjs-backend-webgpu)
if [ "$webgpu" = 1 ]; then
  # The webgpu packages are not dependencies (the `webgpu` package carries every platform's binary, 132 MB).
  (cd "$extra" && npm init -y >/dev/null && npm install --no-audit --no-fund webgpu @tensorflow/tfjs-backend-webgpu@4.22.0 @tensorflow/tfjs-core@4.22.0 >/dev/null)
  # One tfjs-core for the bundle and the webgpu backend (two copies would register the backend in the wrong engine).
  esbuild_webgpu=(--alias:@tensorflow/tfjs-backend-webgpu="$extra/node_modules/@tensorflow/tfjs-backend-webgpu")
fi
for entry in bench/bench.ts src/cli/main.ts bench/device-check.ts; do
  npx esbuild "$entry" --bundle --platform=node --format=esm --target=node20 --outfile="$out/$(basename "$entry" .ts).mjs" \
    --alias:@tensorflow/tfjs-core="$PWD/node_modules/@tensorflow/tfjs-core" "${esbuild_webgpu[@]}" \
    --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
    --banner:js="$banner" --log-level=warning
done
cp node_modules/@tensorflow/tfjs-backend-wasm/package.json "$out/node_modules/@tensorflow/tfjs-backend-wasm/"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/node_modules/@tensorflow/tfjs-backend-wasm/dist/"
xz -T2 -6 -c "$node_bin" > "$out/node.xz"
cp -r configs "$out/configs"

# The torch addon's source and what its direct g++ build needs (scripts/build-torch.mjs --direct).
cp -r native/torch/src native/torch/paths.cjs native/torch/stamp.cjs "$out/native/torch/"
cp scripts/build-torch.mjs "$out/scripts/"
cp node_modules/node-addon-api/package.json node_modules/node-addon-api/index.js node_modules/node-addon-api/*.h "$out/node_modules/node-addon-api/"
tar -C "$headers/include" --exclude=node/openssl -cf - node | tar -C "$out/node-headers/include" -xf -
cp bench/pytorch_bench.py "$out/bench/"

if [ "$webgpu" = 1 ]; then
  mkdir -p "$out/node_modules/webgpu/dist/linux-x64" "$out/debs"
  cp "$extra/node_modules/webgpu/index.js" "$extra/node_modules/webgpu/package.json" "$out/node_modules/webgpu/"
  xz -T2 -6 -c "$extra/node_modules/webgpu/dist/linux-x64/dawn.node" > "$out/dawn.node.xz"
  lists=$(mktemp -d)
  apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
  mkdir -p "$lists/partial" && apt-get "${apt_opts[@]}" update -qq >/dev/null
  (cd "$out/debs" && apt-get "${apt_opts[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1)
  rm -rf "$lists"
fi

cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs on the GPU box from any folder; everything it prints is also logged under $OUT (default <bundle>/results).
#   bash run.sh [torch] [webgpu]      (default: torch)
# torch: unpacks Node; builds the addon with g++ against python3's PyTorch (LIBTORCH=its folder; build.log);
#   then (1) device-check.mjs: 20 training steps per positional encoding on torch/cuda against torch/cpu and
#   tfjs's cpu backend (losses to 1e-4 relative) and the bytes each step uploads from the host; (2) bench.mjs: torch against PyTorch eager on the
#   same device, small and large model, fusions none and all (also host bytes uploaded per step); (3) trains
#   configs/addition-ape.yaml for 600 steps on torch/cuda. About 3-5 minutes on an H100/H200.
# webgpu: unpacks Dawn and the Vulkan loader (dpkg -x into /: needs root), benchmarks webgpu and wasm, trains the
#   same config on webgpu (about 4 minutes more; absent from a bundle made with --no-webgpu).
# Overrides (for a quick CPU check of the flow): DEVICE=cpu, MODELS=small, BENCH_STEPS=5, FUSIONS=none,all,
# CHECK_POS=all (or ape,rope,...), CHECK_AGAINST=torch-cpu,cpu, TRAIN_STEPS=600, EVAL_EVERY=200, PYTHON=python3, LIBTORCH=<libtorch dir>,
# TORCH_CXX11_ABI=0|1 (default: what python's torch reports), ARITH_CXX_STD=c++17|c++20 (default: c++17, then
# c++20 if that fails), SKIP_BUILD=1 (reuse the built addon), STEP_TIMEOUT=<seconds> (stops a check, bench or
# training that runs longer, so that the steps after it still run inside a short device lease; 0: no limit).
# The key lines of every step are collected in $OUT/summary.txt and printed again at the end.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
results=${OUT:-$here/results}; mkdir -p "$results"
results=$(cd "$results" && pwd)
DEVICE=${DEVICE:-cuda}; MODELS=${MODELS:-small,large}; BENCH_STEPS=${BENCH_STEPS:-5}; FUSIONS=${FUSIONS:-none,all}
CHECK_POS=${CHECK_POS:-all}; CHECK_AGAINST=${CHECK_AGAINST:-}; STEP_TIMEOUT=${STEP_TIMEOUT:-0}; TRAIN_STEPS=${TRAIN_STEPS:-600}; EVAL_EVERY=${EVAL_EVERY:-200}; PYTHON=${PYTHON:-python3}
modes=("$@"); [ ${#modes[@]} -gt 0 ] || modes=(torch)
node=${TMPDIR:-/tmp}/arith-node
status=0
log() { echo "== $*" | tee -a "$results/summary.txt"; }
keep() { cat >> "$results/summary.txt"; }   # key lines already printed: to the summary only
: > "$results/summary.txt"
xz -dc "$here/node.xz" > "$node" && chmod +x "$node" || { echo "cannot unpack Node to $node"; exit 1; }
log "$(date -u +%FT%TZ) $(uname -m) node $("$node" --version); $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)"
cd "$here"

run_torch() {
  local started=$SECONDS addon="$here/native/torch/build/Release/arith_torch.node"
  if [ -z "${LIBTORCH:-}" ]; then
    LIBTORCH=$("$PYTHON" -c 'import torch, os; print(os.path.dirname(torch.__file__))') || { log "torch: $PYTHON cannot import torch"; return 1; }
  fi
  export LIBTORCH
  export TORCH_CXX11_ABI=${TORCH_CXX11_ABI:-$("$PYTHON" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null || echo 1)}
  log "torch: LIBTORCH=$LIBTORCH TORCH_CXX11_ABI=$TORCH_CXX11_ABI $("$PYTHON" -c 'import torch; print("python torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1 | tail -1)"
  if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f "$addon" ]; then
    rm -rf "$here/native/torch/build"
    build() { npm_config_nodedir="$here/node-headers" ARITH_BUILD_JOBS=$(nproc) "$node" scripts/build-torch.mjs --direct > "$results/build.log" 2>&1; }
    if ! build; then
      # C++17 by default; PyTorch's newest headers need C++20: one more try with it, unless ARITH_CXX_STD was given.
      if [ -n "${ARITH_CXX_STD:-}" ]; then
        cat "$results/build.log"; log "torch: addon build FAILED after $((SECONDS - started)) s (log above and in build.log)"; return 1
      fi
      mv "$results/build.log" "$results/build-c++17.log"
      log "torch: the C++17 build failed ($(grep -m1 -iE 'error|failed' "$results/build-c++17.log" | cut -c1-160)); trying C++20"
      if ! ARITH_CXX_STD=c++20 build; then
        cat "$results/build-c++17.log" "$results/build.log"
        log "torch: addon build FAILED with C++17 and C++20 after $((SECONDS - started)) s (logs above, build-c++17.log, build.log)"; return 1
      fi
    fi
    log "torch: $(tail -1 "$results/build.log")"
  fi
  export ARITH_TORCH_ADDON=$addon
  ARITH_DEVICE=$DEVICE "$node" -e 'const a = require(process.env.ARITH_TORCH_ADDON); a.setDevice(process.env.ARITH_DEVICE); console.log(JSON.stringify(a.info()))' > "$results/addon-info.json" 2>&1 \
    || { cat "$results/addon-info.json"; log "torch: addon does not load or has no device $DEVICE"; return 1; }
  log "torch: addon $(cat "$results/addon-info.json")"

  local t=$SECONDS
  timeout "$STEP_TIMEOUT" "$node" device-check.mjs --device "$DEVICE" --pos "$CHECK_POS" ${CHECK_AGAINST:+--against "$CHECK_AGAINST"} --out "$results" 2>&1 | tee "$results/device-check.log"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  log "device check ($((SECONDS - t)) s):"; grep -E ' loss [0-9]|device check:' "$results/device-check.log" | keep

  t=$SECONDS
  timeout "$STEP_TIMEOUT" "$node" bench.mjs --backends torch --device "$DEVICE" --models "$MODELS" --steps "$BENCH_STEPS" --fusions "$FUSIONS" \
    --vs-pytorch --python "$PYTHON" --out "$results" 2>&1 | tee "$results/bench.log"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  log "bench ($((SECONDS - t)) s):"; { sed -n '/timed steps after/,$p' "$results/bench.log"; grep 'uploaded/step' "$results/bench.log"; } | keep

  t=$SECONDS
  timeout "$STEP_TIMEOUT" "$node" main.mjs train -c configs/addition-ape.yaml --backend torch --device "$DEVICE" --set train.steps="$TRAIN_STEPS" \
    --set train.eval_every="$EVAL_EVERY" --run-dir "$results/run-torch" --overwrite 2>&1 | grep --line-buffered -v ETA | tee "$results/train-torch.log"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  log "train addition-ape.yaml on torch/$DEVICE, $TRAIN_STEPS steps: $((SECONDS - t)) s wall"
  grep -E '^(backend|model|step [0-9]+:)' "$results/train-torch.log" | tail -n 6 | keep
  sed -n '/^held-out exact match/,$p' "$results/train-torch.log" | keep
}

run_webgpu() {
  [ -f "$here/dawn.node.xz" ] || { log "webgpu: not in this bundle (made with --no-webgpu)"; return 1; }
  for deb in "$here"/debs/*.deb; do dpkg -x "$deb" /; done; ldconfig
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; [ -f "$icd" ] && export VK_DRIVER_FILES=$icd
  xz -dc "$here/dawn.node.xz" > "$here/node_modules/webgpu/dist/linux-x64/dawn.node"
  "$node" bench.mjs --backends webgpu,wasm --models "$MODELS" --steps "$BENCH_STEPS" --out "$results" 2>&1 | tee "$results/bench-webgpu.log"
  local t=$SECONDS
  "$node" main.mjs train -c configs/addition-ape.yaml --backend webgpu --set train.steps="$TRAIN_STEPS" \
    --set train.eval_every="$EVAL_EVERY" --run-dir "$results/run-webgpu" --overwrite 2>&1 | grep --line-buffered -v ETA | tee "$results/train-webgpu.log"
  log "train addition-ape.yaml on webgpu, $TRAIN_STEPS steps: $((SECONDS - t)) s wall"
}

for mode in "${modes[@]}"; do
  case "$mode" in
    torch) run_torch || status=1 ;;
    webgpu) run_webgpu || status=1 ;;
    *) echo "run.sh: unknown mode $mode (torch, webgpu)"; status=2 ;;
  esac
done
log "done in $SECONDS s, status $status; logs and JSON in $results"
printf '\n==== summary (%s)\n' "$results/summary.txt"; cat "$results/summary.txt"
exit $status
RUN
chmod +x "$out/run.sh"
du -sh "$out"
