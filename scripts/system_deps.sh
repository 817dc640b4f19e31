#!/usr/bin/env bash
# Installs the Debian packages symbolic needs when they are missing: run as root it installs
# them with apt-get; otherwise it prints the exact command and fails.
set -euo pipefail
missing=()
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
ldconfig -p 2>/dev/null | grep -q 'libfluidsynth\.so\.3' || missing+=(libfluidsynth3)
command -v abc2midi >/dev/null 2>&1 || missing+=(abcmidi)
# abcm2ps draws the sheet music (SVG) of `symbolic serve`.
command -v abcm2ps >/dev/null 2>&1 || missing+=(abcm2ps)
# Debian's chromium runs the browser test (tests/test_web_browser.py) through Playwright, which is
# told to use it; Playwright's own browser download is never used.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || missing+=(fluid-soundfont-gm)
# The fluidsynth command line is only the reference in benchmarks/render_speed.py.
command -v fluidsynth >/dev/null 2>&1 || missing+=(fluidsynth)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "symbolic needs these Debian packages: ${missing[*]}" >&2
    echo "Install them with:  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
