#!/usr/bin/env bash
# Opens an `rt report --format html` page in headless Chromium, as HTML and as XHTML, and fails
# on any console message (Chromium reports bad SVG attributes such as a negative width or
# "NaN" there) or XML parse error. Skips, exit 0, when no Chromium is installed: the core test
# suite (ReportsTests) checks well-formedness with an XML parser and does not need it.
#
#   scripts/check_report_html.sh REPORT.html
#   scripts/check_report_html.sh RUN_DIR [RT_BINARY]     renders RUN_DIR with `rt report` first
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 REPORT.html | RUN_DIR [RT_BINARY]" >&2
  exit 2
fi
CHROMIUM=""
for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null 2>&1; then CHROMIUM=$(command -v "$candidate"); break; fi
done
if [[ -z "$CHROMIUM" ]]; then
  echo "SKIP: no Chromium installed (apt-get install chromium to run this check)"
  exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [[ -d "$1" ]]; then
  RT=${2:-"$(dirname "$0")/../.build/release/rt"}
  "$RT" report "$1" --format html --output "$WORK/report.html"
else
  cp "$1" "$WORK/report.html"
fi
cp "$WORK/report.html" "$WORK/report.xhtml"

status=0
for page in report.html report.xhtml; do
  # --dump-dom waits for the page to load and prints the DOM; console messages go to stderr.
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
    --dump-dom "file://$WORK/$page" >"$WORK/$page.dom" 2>"$WORK/$page.log" || {
    echo "FAIL: Chromium could not load $page"; tail -5 "$WORK/$page.log"; status=1; continue; }
  before=$status
  if grep -q ":CONSOLE:" "$WORK/$page.log"; then
    echo "FAIL: console messages while loading $page:"; grep ":CONSOLE:" "$WORK/$page.log"; status=1
  fi
  if grep -q "parsererror" "$WORK/$page.dom"; then
    echo "FAIL: $page is not well-formed:"; grep -o "<parsererror.*</parsererror>" "$WORK/$page.dom" | head -c 2000; status=1
  fi
  if ! grep -q "<h1>" "$WORK/$page.dom"; then
    echo "FAIL: $page rendered no report heading"; status=1
  fi
  if [[ $status -eq $before ]]; then
    echo "$page: loaded, $(grep -o "<svg" "$WORK/$page.dom" | wc -l) SVG figures, no console messages"
  fi
done
[[ $status -eq 0 ]] && echo "PASS: the report loads in $("$CHROMIUM" --version 2>/dev/null | head -1) without errors"
exit $status
