#!/usr/bin/env bash
# Times how long headless Chromium takes to open a report: a harness page (in a temporary
# directory; the report itself has no script) loads report.html in a 1400×2400 frame and logs
# the milliseconds until the frame's load event (HTML and every inline SVG parsed, styles
# applied, first layout) and until the second animation frame after it (painted). Prints each
# run, the medians and the load average.
#
#   scripts/time_report.sh REPORT_DIR [RUNS]     (default 5 runs)
set -euo pipefail

dir=${1:?usage: scripts/time_report.sh REPORT_DIR [RUNS]}
runs=${2:-5}
page="$(cd "$dir" && pwd)/report.html"
[[ -f "$page" ]] || { echo "time_report: $page does not exist" >&2; exit 2; }
browser=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[[ -n "$browser" ]] || { echo "time_report: no Chromium found (apt-get install -y chromium)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/harness.html" <<HTML
<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" style="width:1400px;height:2400px;border:0"></iframe>
<script>
const frame = document.getElementById("f");
const start = performance.now();
frame.onload = () => {
  const loaded = performance.now() - start;
  requestAnimationFrame(() => requestAnimationFrame(() => {
    console.log("report-timing loaded=" + loaded.toFixed(0) + " painted=" + (performance.now() - start).toFixed(0));
  }));
};
frame.src = "file://$page";
</script></body></html>
HTML
loads=(); paints=()
for i in $(seq 1 "$runs"); do
    line=$("$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
        --disable-background-networking --disable-sync --disable-component-update \
        --user-data-dir="$work/profile$i" --enable-logging=stderr --v=1 --window-size=1400,2400 \
        --screenshot="$work/shot.png" "file://$work/harness.html" 2>&1 | grep -o 'report-timing[^"]*' | head -1 || true)
    if [[ -z "$line" ]]; then
        echo "time_report: run $i logged no timing" >&2
        continue
    fi
    echo "run $i: ${line#report-timing }"
    l=${line#*loaded=}; loads+=("${l%% *}")
    paints+=("${line#*painted=}")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
if (( ${#loads[@]} > 0 )); then
    echo "median of ${#loads[@]} runs: loaded $(median "${loads[@]}") ms, painted $(median "${paints[@]}") ms; $(wc -c <"$page") bytes; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
