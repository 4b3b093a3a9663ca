#!/usr/bin/env bash
# Debian's Chromium, for the demo's browser test (Playwright drives it; its own browser download
# cannot work on machines without internet access).
#   chromium.sh install
set -euo pipefail
case "${1:-}" in
  install)
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
