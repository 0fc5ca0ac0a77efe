#!/usr/bin/env bash
# Fuzzes usagelens-core with cargo-fuzz (libFuzzer): each target in turn for the given seconds.
#   scripts/fuzz.sh [seconds-per-target] [target...]
# Targets: parse, telecomx_csv, fetch_job, view_state (all when none is named). Seeds come from
# scripts/fuzz-corpus.sh; inputs that find new paths are kept in fuzz/corpus/<target>/, crashes in
# fuzz/artifacts/<target>/. Exits non-zero when any target crashed, hung or could not be built.
# Extra libFuzzer flags can be passed in FUZZ_FLAGS (e.g. FUZZ_FLAGS="-runs=10000000").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse telecomx_csv fetch_job view_state)

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: needs a nightly toolchain: rustup toolchain install nightly --profile minimal" >&2
  exit 2
fi
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz

./scripts/fuzz-corpus.sh
# No sanitizer: usagelens-core has no unsafe code, and without ASan every target runs about twice
# as many inputs a second. Debug assertions and overflow checks stay on (cargo fuzz's default).
build_flags=(--release --debug-assertions --sanitizer none --no-trace-compares)
cargo +nightly fuzz build "${build_flags[@]}"

failed=()
for target in "${targets[@]}"; do
  echo "=== fuzz $target for ${seconds}s"
  mkdir -p "fuzz/artifacts/$target"
  # -timeout: an input that runs 30 s is a hang, reported like a crash.
  # shellcheck disable=SC2086
  if ! cargo +nightly fuzz run "${build_flags[@]}" "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -timeout=30 -max_len=16384 -print_final_stats=1 ${FUZZ_FLAGS:-}; then
    failed+=("$target")
    echo "fuzz: $target failed; reproduce with: cargo +nightly fuzz run ${build_flags[*]} $target fuzz/artifacts/$target/<file>" >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes or hangs in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: no crash in ${targets[*]} (${seconds}s each)"
