#!/usr/bin/env bash
# Lists the Rust files outside crates/core/src/carriers/ whose non-test code names a specific
# carrier (`Carrier::<Name>`, a `UsageQuery`, `Credentials` or `DeviceListQuery` variant), with
# the count. After the carrier registry only the enum's own file (model.rs) is listed.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='Carrier::(VodafoneVrs|Telecomx|Thingspace|ControlCenter)\b|\bUsageQuery::[A-Z]|(^|[^A-Za-z])Credentials::[A-Z]|DeviceListQuery::[A-Z]'
for file in $(git ls-files 'src/*.rs' 'crates/core/src/*.rs'); do
  case $file in crates/core/src/carriers/*) continue ;; esac
  tests_from=$(grep -n '^#\[cfg(test)\]' "$file" | head -1 | cut -d: -f1 || true)
  count=$(awk -v t="${tests_from:-999999}" 'NR < t' "$file" | grep -cE "$pattern" || true)
  if [ "$count" -gt 0 ]; then echo "$file $count"; fi
done
