#!/usr/bin/env bash
# Builds the libFuzzer targets in their own folder and runs each one: first on its regression
# inputs (fuzz/regressions/<target>/, each must pass), then fuzzing for FUZZ_SECONDS. Prints the
# executions per target; exits non-zero when any target crashed, hung or leaked.
# docs/fuzzing.md has the longer runs.
#
#   fuzz/run.sh                        all four targets, 60 s each
#   FUZZ_SECONDS=600 fuzz/run.sh report
#
#   FUZZ_SECONDS     seconds of fuzzing per target (default 60; 0: only replay the regressions)
#   FUZZ_BUILD_DIR   build folder (default build-fuzz), configured with clang and HARNESS_FUZZ=ON
#   FUZZ_BUILD_JOBS  parallel compile jobs (default: the number of cores)
#   FUZZ_ARGS        more libFuzzer options for the fuzzing runs, e.g. "-use_value_profile=1"
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${FUZZ_SECONDS:-60}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${FUZZ_BUILD_JOBS:-$(nproc)}
read -r -a EXTRA <<<"${FUZZ_ARGS:-}"
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(scenario protocol report thresholds)

if [[ ! -f $BUILD/CMakeCache.txt ]]; then
  mkdir -p "$BUILD"
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -DHARNESS_FUZZ=ON -DHARNESS_BUILD_TESTS=OFF \
    -DHARNESS_BUILD_BENCH=OFF >"$BUILD/configure.log" 2>&1 ||
    { cat "$BUILD/configure.log" >&2; exit 2; }
fi
cmake --build "$BUILD" --target fuzzers -j"$JOBS"

out=$BUILD/fuzz
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=()
for t in "${TARGETS[@]}"; do
  bin=$out/fuzz_$t
  [[ -x $bin ]] || { echo "fuzz: no target '$t'" >&2; exit 2; }
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t" "$out/logs"
  log=$out/logs/$t.log
  common=(-max_len=65536 -timeout=10 -rss_limit_mb=2048 -dict=fuzz/dict/$t.dict
          -artifact_prefix="$out/artifacts/$t/")

  shopt -s nullglob
  regressions=(fuzz/regressions/$t/*)
  shopt -u nullglob
  if ((${#regressions[@]})); then
    if ! "$bin" "${common[@]}" "${regressions[@]}" >"$log" 2>&1; then
      echo "fuzz: $t: a regression input fails (fuzz/regressions/$t/); log: $log"
      grep -E '^(==|SUMMARY|Running:|terminate called|  what\(\))|runtime error| in harness::' "$log" | head -20
      failed+=("$t")
      continue
    fi
    echo "fuzz: $t: ${#regressions[@]} regression inputs pass"
  fi
  ((SECONDS_EACH > 0)) || continue

  if "$bin" "${common[@]}" -max_total_time="$SECONDS_EACH" -print_final_stats=1 "${EXTRA[@]}" \
    "$out/corpus/$t" "$out/seeds/$t" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    corpus=$(find "$out/corpus/$t" -type f | wc -l)
    echo "fuzz: $t: ${execs:-?} executions in ${SECONDS_EACH} s (${rate:-?}/s), corpus $corpus, no crash"
  else
    echo "fuzz: $t: FAILED; input in $out/artifacts/$t/, log: $log"
    grep -E '^(==|SUMMARY|terminate called|  what\(\)|artifact_prefix)|runtime error| in harness::' "$log" | head -20
    failed+=("$t")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]} (docs/fuzzing.md: how a crash becomes a regression test)"
  exit 1
fi
