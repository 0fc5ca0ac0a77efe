#!/usr/bin/env bash
# Writes the fuzz targets' seed corpus from the test fixtures and demo files into
# fuzz/corpus/<target>/ (generated, not committed). Seeds have fixed names, so running this again
# rewrites them and leaves what fuzzing added next to them alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
corpus=fuzz/corpus
mkdir -p "$corpus"/{parse,telecomx_csv,fetch_job,view_state}

fixtures=()
for f in crates/core/tests/fixtures/* crates/core/tests/fixtures/variants/*/* public/demo/*; do
  [ -f "$f" ] && fixtures+=("$f")
done

# parse: one selector byte, then the body. 0 detects; 1-4 force Vodafone VRS, TelecomX, ThingSpace,
# Control Center; +8 adds a subject; +16 parses into a set that already holds records. Every body
# goes in with detection and with every forced carrier (the mismatch paths are worth reaching too).
for f in "${fixtures[@]}"; do
  name=$(basename "$(dirname "$f")")-$(basename "$f")
  for selector in 0 1 2 3 4 8 25; do
    { printf "\\x$(printf %02x "$selector")"; cat "$f"; } >"$corpus/parse/seed-$name-$selector"
  done
done

# telecomx_csv: the two CSV fixtures, and the shapes the fast row splitter hands to the csv crate
# (escaped and unterminated quotes, text after a closing quote) or takes itself (CRLF, BOM, blank
# lines, quoted fields with line breaks).
for f in crates/core/tests/fixtures/*.csv crates/core/tests/fixtures/variants/telecomx/*.csv public/demo/*.csv; do
  cp "$f" "$corpus/telecomx_csv/seed-$(basename "$f")"
done
header='number,name,ratePlan,year,month,Voice Homeland secs,Voice subscription Homeland secs,Data Homeland bytes,SMS roaming,MMS international'
printf '%s\r\n+4571,A,P,2024,1,-5,3600,1024,2,0\r\n\r\n' "$header" >"$corpus/telecomx_csv/seed-crlf.csv"
printf '\xef\xbb\xbf%s\n+4571,"A, B",P,2024,12,10,0,5,,\n' "$header" >"$corpus/telecomx_csv/seed-bom-quoted.csv"
printf '%s\n+4571,"A ""B""",P,2024,2,1,2,3,4,5\n' "$header" >"$corpus/telecomx_csv/seed-escaped-quote.csv"
printf '%s\n+4571,"A\nB",P,2024,3,1,2,3,4,5\n+4571,"unterminated,P,2024,4,1,2,3,4,5\n' "$header" \
  >"$corpus/telecomx_csv/seed-multiline-unterminated.csv"
printf '%s\n+4571,"A"x,P,2024,5,1,2,3,4,5\n+4571,A,P,2024,6,1,2\n' "$header" >"$corpus/telecomx_csv/seed-after-quote.csv"
printf 'year,month,"Voice roaming USA, Canada secs","Voice subscription roaming USA, Canada secs"\n2024,13,1,2\n' \
  >"$corpus/telecomx_csv/seed-roaming-bad-month.csv"

# view_state: the shared-view queries the app writes, and ones it must warn about.
i=0
for query in \
  '?source=demo&service=data&roaming=yes&zone=EU&from=2026-09-01&group=zone&metric=voice' \
  'source=demo&from=2026-09-01&to=2026-10-01&service=voice&direction=mo&zone=USA%2C%20Canada&roaming=no&subject=imsi%3A262021234567890&carrier=telecomx&metric=sms&group=rate-plan&units=decimal&tz=local' \
  'subject=iccid:8901170425801873534&subject=label:fleet%3Dtruck+7&carrier=thingspace&units=binary&tz=utc' \
  'service=fax&roaming=maybe&source=&x=1&from=2015-13-01&%zz=%4' \
  'zone=%E2%80%AE&zone=%FF&source=a%26b&to=+262143-12-31'; do
  printf '%s' "$query" >"$corpus/view_state/seed-$i"
  i=$((i + 1))
done

# fetch_job: the input is read by arbitrary::Unstructured (job, then answers), so any bytes are a
# valid input; the fixtures give varied choices, and all-zero / all-one bytes the plainest runs.
for f in "${fixtures[@]}"; do
  head -c 4096 "$f" >"$corpus/fetch_job/seed-$(basename "$f")"
done
head -c 64 /dev/zero >"$corpus/fetch_job/seed-zeros"
head -c 256 /dev/zero | tr '\0' '\377' >"$corpus/fetch_job/seed-ones"

echo "fuzz-corpus: seeds in $corpus: $(for t in parse telecomx_csv fetch_job view_state; do printf '%s %s  ' "$t" "$(ls "$corpus/$t" | wc -l)"; done)"
