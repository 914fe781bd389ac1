#!/usr/bin/env bash
# The system programs HyperSend's tests drive for real: Chromium (the web app's end-to-end
# tests), nginx and openssl (the deploy config's tests), redis-server (several server
# processes sharing events), PostgreSQL (the shared store; the tests start their own with
# initdb and pg_ctl in a temporary directory), curl (a download tool that names files
# itself), Node.js with npm (tus-js-client, a tus client no one here wrote, uploads with it).
# Installs the missing ones with apt-get as root (or with sudo); otherwise names
# them and fails, so that no test meets a missing program.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || command -v pg_ctl >/dev/null \
    || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo="sudo"
else
    echo "The tests need these Debian packages: ${missing[*]}" >&2
    echo "Install them as root: apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "Installing the system packages the tests drive: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
