#!/usr/bin/env bash
# Parsing benchmark: stream a synthetic 65,536-host nmap XML file (415 MB) through
# nmap::xml::parse_reader. Generates the file once, then runs the bench binary via cargo and
# under /usr/bin/time -v (peak RSS as the kernel sees it). Usage: bench/parse_xml.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."

file="${PARSE_XML_FILE:-/tmp/medium.xml}"
runs="${1:-3}"

if [[ ! -f "$file" ]]; then
    echo "generating $file (about 15 s) ..."
    python3 tests/fixtures/generator/gen_nmap_xml.py --hosts 65536 --ports-per-host 5 --seed 1 -o "$file"
fi

cargo bench --bench parse_xml -- "$file"

bin="$(cargo bench --bench parse_xml --no-run --message-format=json 2>/dev/null |
    grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)"
if [[ -x /usr/bin/time && -n "$bin" ]]; then
    for i in $(seq 1 "$runs"); do
        echo "--- run $i: /usr/bin/time -v $bin $file"
        /usr/bin/time -v "$bin" "$file" 2>&1 |
            grep -E '^(wall|hosts|ports|throughput|peak)|Elapsed \(wall|Maximum resident|User time|System time'
    done
else
    echo "(/usr/bin/time or the bench binary not found: skipping the external measurement)"
fi
