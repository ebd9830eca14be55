#!/usr/bin/env bash
# Packs what an offline GPU box needs to run the lab on the webgpu backend (Dawn over Vulkan) into one folder:
# a compressed Node binary, the lab bundled by esbuild (bench and CLI), the `webgpu` package's Linux x64 binary,
# tfjs's wasm files (for comparison runs) and Debian's Vulkan/GL loader packages, plus run.sh.
#   scripts/gpu-bundle.sh [OUT_DIR]      (default .gpu; about 42 MB)
# On the box: bash OUT_DIR/run.sh  (benchmarks webgpu and wasm, then trains configs/addition-ape.yaml on webgpu)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.gpu}
extra=$(mktemp -d)
trap 'rm -rf "$extra"' EXIT

# The webgpu packages are not dependencies (the `webgpu` package carries every platform's binary, 132 MB).
(cd "$extra" && npm init -y >/dev/null && npm install --no-audit --no-fund webgpu @tensorflow/tfjs-backend-webgpu@4.22.0 @tensorflow/tfjs-core@4.22.0 >/dev/null)

rm -rf "$out" && mkdir -p "$out/node_modules/webgpu/dist/linux-x64" "$out/node_modules/@tensorflow/tfjs-backend-wasm/dist" "$out/debs"
# One tfjs-core for the bundle and the webgpu backend (two copies would register the backend in the wrong engine).
# The CommonJS parts of tfjs read require and __dirname, which an ES module bundle must define.
banner="import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
for entry in bench/bench.ts src/cli/main.ts; do
  npx esbuild "$entry" --bundle --platform=node --format=esm --target=node20 --outfile="$out/$(basename "$entry" .ts).mjs" \
    --alias:@tensorflow/tfjs-core="$PWD/node_modules/@tensorflow/tfjs-core" \
    --alias:@tensorflow/tfjs-backend-webgpu="$extra/node_modules/@tensorflow/tfjs-backend-webgpu" \
    --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
    --banner:js="$banner" --log-level=warning
done
cp "$extra/node_modules/webgpu/index.js" "$extra/node_modules/webgpu/package.json" "$out/node_modules/webgpu/"
xz -T2 -6 -c "$extra/node_modules/webgpu/dist/linux-x64/dawn.node" > "$out/dawn.node.xz"
cp node_modules/@tensorflow/tfjs-backend-wasm/package.json "$out/node_modules/@tensorflow/tfjs-backend-wasm/"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/node_modules/@tensorflow/tfjs-backend-wasm/dist/"
xz -T2 -6 -c "$(command -v node)" > "$out/node.xz"
cp -r configs "$out/configs"
lists=$(mktemp -d)
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
mkdir -p "$lists/partial" && apt-get "${apt_opts[@]}" update -qq >/dev/null
(cd "$out/debs" && apt-get "${apt_opts[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1)
rm -rf "$lists"

cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs on the GPU box from any folder: unpacks Node, Dawn and the Vulkan loader, benchmarks, trains.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
results=${OUT:-$here/results}; mkdir -p "$results"
for deb in "$here"/debs/*.deb; do dpkg -x "$deb" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; [ -f "$icd" ] && export VK_DRIVER_FILES=$icd
xz -dc "$here/node.xz" > /tmp/arith-node && chmod +x /tmp/arith-node
xz -dc "$here/dawn.node.xz" > "$here/node_modules/webgpu/dist/linux-x64/dawn.node"
cd "$here"
/tmp/arith-node bench.mjs --backends webgpu,wasm --models small,large --steps 5 --out "$results" 2>&1 | tee "$results/bench.log"
/tmp/arith-node main.mjs train -c configs/addition-ape.yaml --backend webgpu --set train.steps=600 \
  --set train.eval_every=200 --run-dir "$results/run" --overwrite 2>&1 | grep -v ETA | tee "$results/train.log"
RUN
chmod +x "$out/run.sh"
du -sh "$out"
