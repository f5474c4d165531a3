#!/usr/bin/env bash
# The GPU check, from a folder made by scripts/gpu-bundle.sh (no Rust needed):
#   1. which wgpu adapter `train` gets;
#   2. parity: the seed run on wgpu against flex, every epoch's loss within 1e-4;
#   3. the benchmark on seed, scaled and large for wgpu and flex, as CSV.
# Every step has its own time limit and the check as a whole a deadline
# (GPU_CHECK_DEADLINE_S, default 450 s), so it ends within 8 minutes and a
# step that runs out still leaves the others' results.
#
#   bash dist/gpu/gpu-check.sh OUT_DIR
#
# Knobs (environment): GPU_CHECK_EPOCHS (of the parity run, default the
# seed's 150), GPU_CHECK_WORKLOADS (default seed,scaled,large),
# GPU_CHECK_RUNS (default 3), GPU_CHECK_LIMIT_S (seconds per benchmark step,
# default 75), TRAIN (the binary, default the bundle's). On a CPU-only machine
# it runs on lavapipe/llvmpipe, e.g. to rehearse:
#   GPU_CHECK_WORKLOADS=tiny,seed GPU_CHECK_RUNS=1 bash dist/gpu/gpu-check.sh /tmp/gpu-check
# Exit status: 0 when the adapter opened and parity held, 1 otherwise.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: gpu-check.sh OUT_DIR}
workloads=${GPU_CHECK_WORKLOADS:-seed,scaled,large}
runs=${GPU_CHECK_RUNS:-3}
epochs=${GPU_CHECK_EPOCHS:-150}
limit=${GPU_CHECK_LIMIT_S:-75}
deadline=$(($(date +%s) + ${GPU_CHECK_DEADLINE_S:-450}))
mkdir -p "$out"
out=$(cd "$out" && pwd)
# The bundle carries `train` gzipped (scripts/gpu-bundle.sh); unpack it once.
train=${TRAIN:-$here/train}
if [ -z "${TRAIN:-}" ] && [ ! -x "$train" ] && [ -f "$here/train.gz" ]; then
  train="$out/train"
  gzip -dc "$here/train.gz" >"$train" && chmod +x "$train"
fi
summary="$out/summary.txt"
: >"$summary"
log() { echo "gpu-check: $*" | tee -a "$summary"; }
# Seconds a step may take: its own limit, or what is left before the deadline.
allowed() {
  local left=$((deadline - $(date +%s)))
  if [ "$left" -lt "$1" ]; then echo "$left"; else echo "$1"; fi
}

# The bundle's Vulkan loader, found before any installed one.
if [ -d "$here/lib" ]; then
  export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# NVIDIA's Vulkan driver normally installs its ICD manifest; where only the
# library is there (some container images), point the loader at it.
if [ -z "${VK_ICD_FILENAMES:-}" ] &&
  ! compgen -G "/usr/share/vulkan/icd.d/nvidia*.json" >/dev/null &&
  ! compgen -G "/etc/vulkan/icd.d/nvidia*.json" >/dev/null; then
  nvidia_lib=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0/ {print $NF; exit}')
  if [ -n "$nvidia_lib" ]; then
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' \
      "$nvidia_lib" >"$out/nvidia_icd.json"
    export VK_ICD_FILENAMES="$out/nvidia_icd.json"
    log "no NVIDIA ICD manifest installed; using $nvidia_lib"
  fi
fi

started=$(date +%s)
log "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
log "train: $("$train" --version 2>&1)"
log "cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores"
if command -v nvidia-smi >/dev/null; then
  log "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
fi

# 1. The adapter: a one-epoch run prints the backend it trained on.
status=0
if timeout "$(allowed 120)" "$train" --backend wgpu --epochs 1 >"$out/adapter.txt" 2>&1; then
  log "adapter: $(awk '/^ *backend / {sub(/^ *backend +/, ""); print; exit}' "$out/adapter.txt")"
else
  log "adapter: FAILED: $(grep -m1 '^error' "$out/adapter.txt" || tail -1 "$out/adapter.txt")"
  status=1
fi

# 2. Parity: the seed run on wgpu and on flex, loss by loss.
parity() {
  local backend
  for backend in wgpu flex; do
    rm -rf "$out/seed-$backend"
    timeout "$(allowed 150)" "$train" --backend "$backend" --epochs "$epochs" --out "$out/seed-$backend" \
      >"$out/seed-$backend.txt" 2>&1 || return 1
  done
  # Column 2 of metrics.csv is the epoch's loss; print the largest difference.
  paste -d, "$out/seed-wgpu/metrics.csv" "$out/seed-flex/metrics.csv" | awk -F, -v half=0 '
    NR == 1 { half = NF / 2; next }
    { d = $2 - $(half + 2); if (d < 0) d = -d; if (d > worst) { worst = d; at = $1 }; n++ }
    END { printf "%d epochs, largest difference %.3g (epoch %d)\n", n, worst, at; exit !(n > 0 && worst <= 1e-4) }'
}
if [ "$status" -eq 0 ] && result=$(parity); then
  log "parity: PASS: $result"
else
  log "parity: FAILED: ${result:-a run did not finish; see $out/seed-*.txt}"
  status=1
fi

# 3. The benchmark, one workload and backend at a time (each its own CSV).
IFS=, read -r -a names <<<"$workloads"
for workload in "${names[@]}"; do
  for backend in wgpu flex; do
    csv="$out/bench-$workload-$backend.csv"
    seconds=$(allowed "$limit")
    if [ "$seconds" -le 1 ]; then
      log "bench: $workload on $backend skipped: the check's deadline has passed"
      continue
    fi
    if timeout "$seconds" "$train" bench --workloads "$workload" --backends "$backend" \
      --runs "$runs" --csv "$csv" >"$out/bench-$workload-$backend.txt" 2>&1; then
      log "bench: $(grep "^$workload " "$out/bench-$workload-$backend.txt")"
    else
      log "bench: $workload on $backend did not finish within ${seconds} s"
    fi
  done
done
# All runs in one CSV, one header.
first=1
for csv in "$out"/bench-*.csv; do
  [ -f "$csv" ] || continue
  if [ "$first" -eq 1 ]; then cat "$csv"; first=0; else tail -n +2 "$csv"; fi
done >"$out/bench.csv"
log "took $(($(date +%s) - started)) s; results in $out (summary.txt, bench.csv)"
exit "$status"
