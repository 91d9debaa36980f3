#!/usr/bin/env bash
# Make sure Debian's nginx is installed for the scale-out test (tests/scale/), which runs it as the
# load balancer of docs/deploy.md with a configuration of its own on free loopback ports; the
# package's own service is never started. Non-interactive and idempotent.
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo -n"
    else
        echo "ensure-nginx: nginx is missing and this user cannot run apt-get (not root, no sudo)" >&2
        exit 1
    fi
else
    SUDO=""
fi

export DEBIAN_FRONTEND=noninteractive
echo "ensure-nginx: installing Debian's nginx package (one-time)" >&2
# policy-rc.d answering 101 keeps the package from starting its default site on port 80.
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=""
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod +x "$POLICY"
    CREATED_POLICY=1
fi
trap '[ -n "$CREATED_POLICY" ] && $SUDO rm -f "$POLICY"' EXIT
# Retry once after a fresh package list: a stale list is the usual cause of a 404 on install.
if ! $SUDO apt-get install -y -q --no-install-recommends nginx-light >/dev/null 2>&1; then
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q --no-install-recommends nginx-light >/dev/null
fi
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]
