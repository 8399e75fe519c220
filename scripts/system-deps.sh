#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (OCR engine and fonts for
# the card renderer, Chromium for the dashboard tests, espeak-ng for speech)
# and makes sure the local PostgreSQL, Redis and NATS servers are up.
set -euo pipefail
PKGS=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim chromium espeak-ng sox ffmpeg
      fonts-noto-cjk fonts-wqy-zenhei fonts-dejavu-core fonts-liberation2)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The services the store and scale-out tests talk to (started by the machine; restart if stopped).
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server || true
fi
