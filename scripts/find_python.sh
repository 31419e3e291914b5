#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or explain on stderr and fail.
set -u
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
candidates+=(python3.13 python3.12)
for d in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]* /root/.pyenv/versions/3.1[2-9]*; do
  [ -x "$d/bin/python" ] && candidates+=("$d/bin/python")
done
candidates+=(python3 python)
for c in "${candidates[@]}"; do
  p=$(command -v "$c" 2>/dev/null) || continue
  if "$p" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    echo "$p"; exit 0
  fi
done
echo "error: no Python >= 3.12 found (tried PYTHON, python3.13, python3.12, pyenv versions, python3)." >&2
echo "       Mesa 3.5 needs Python 3.12+. Install one (e.g. 'pyenv install 3.12') or set PYTHON=/path/to/python3.12." >&2
exit 1
