#!/usr/bin/env bash
# Renders a report in headless Chromium and fails on any console message, failed load or
# missing chart; saves a screenshot and prints how long the page took to load and render.
#
#   scripts/check_report.sh REPORT_DIR [SCREENSHOT.png [WIDTHxHEIGHT]]
#
# REPORT_DIR holds report.html (a run directory, or the --out of `gmmtune compare`). Chromium
# is found as $CHROMIUM, chromium or chromium-browser (Debian: apt-get install -y chromium).
# Exit codes: 0 checked, 1 a check failed, 2 no Chromium or no report.
set -euo pipefail

dir=${1:?usage: scripts/check_report.sh REPORT_DIR [SCREENSHOT.png [WIDTHxHEIGHT]]}
shot=${2:-}
size=${3:-1400x2400}
page="$dir/report.html"
if [[ ! -f "$page" ]]; then
    echo "check_report: $page does not exist" >&2
    exit 2
fi
browser=${CHROMIUM:-}
if [[ -z "$browser" ]]; then
    for candidate in chromium chromium-browser; do
        if command -v "$candidate" >/dev/null 2>&1; then
            browser=$(command -v "$candidate")
            break
        fi
    done
fi
if [[ -z "$browser" ]]; then
    echo "check_report: no Chromium found (set CHROMIUM, or apt-get install -y chromium)" >&2
    exit 2
fi
url="file://$(cd "$(dirname "$page")" && pwd)/$(basename "$page")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
       --no-default-browser-check --disable-extensions --disable-background-networking
       --disable-sync --disable-component-update --disable-default-apps
       --user-data-dir="$work/profile")

start=$(date +%s%N)
"$browser" "${flags[@]}" --enable-logging=stderr --v=1 --dump-dom "$url" \
    >"$work/dom.html" 2>"$work/log" || true
end=$(date +%s%N)
load_ms=$(( (end - start) / 1000000 ))

failed=0
# Console messages (console.* calls and uncaught errors) and resources of the page that
# failed to load (the browser's own background requests aside).
if grep -E "CONSOLE|Uncaught|Failed to load resource|file://.*net::ERR_|net::ERR_.*file://" "$work/log" >"$work/console"; then
    echo "check_report: the browser reported:" >&2
    cat "$work/console" >&2
    failed=1
fi
if ! grep -q "</html>" "$work/dom.html"; then
    echo "check_report: Chromium rendered no page (see its log below)" >&2
    grep -v dbus "$work/log" | tail -20 >&2
    exit 1
fi
# Every chart of the file is in the rendered page, with its SVG.
chart_ids() { { grep -o '<figure class="plot" id="[^"]*"' "$1" || true; } | sed 's/.*id="//; s/"$//' | sort; }
chart_ids "$page" >"$work/expected"
chart_ids "$work/dom.html" >"$work/rendered"
expected=$(wc -l <"$work/expected")
if ! diff -q "$work/expected" "$work/rendered" >/dev/null; then
    echo "check_report: charts missing from the rendered page:" >&2
    comm -23 "$work/expected" "$work/rendered" >&2
    failed=1
fi
svgs=$({ grep -o '<svg' "$work/dom.html" || true; } | wc -l)
if (( svgs < expected )); then
    echo "check_report: $expected charts but only $svgs SVG elements rendered" >&2
    failed=1
fi
if [[ -n "$shot" ]]; then
    "$browser" "${flags[@]}" --window-size="${size/x/,}" --screenshot="$shot" "$url" \
        >/dev/null 2>"$work/shot.log" || true
    if [[ ! -s "$shot" ]]; then
        echo "check_report: no screenshot written" >&2
        failed=1
    fi
fi
bytes=$(wc -c <"$page")
echo "check_report: $page: $expected charts rendered, $(( bytes / 1024 )) KiB, loaded and dumped in ${load_ms} ms${shot:+, screenshot $shot}"
exit $failed
