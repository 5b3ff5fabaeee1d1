#!/bin/sh
# Installs the system packages the test suite needs, when they are missing:
# Debian's redis-server (the Redis store tests start their own on a free port),
# chromium and chromium-driver (the browser-console test). Idempotent: does
# nothing when everything is there. Without root or apt-get it only says what
# is missing; the tests that need it then skip (or fail when CI is set).
set -eu

missing=""
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium-driver"

if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/setup-system.sh: missing$missing; install them (apt-get install$missing) to run the Redis and browser tests" >&2
    exit 0
fi
echo "tests/setup-system.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086 # the list is meant to split
apt-get install -y -q $missing >/dev/null
