# Shared by .ci/run and .ci/test: per-phase timings and README's .venv. Source it, don't run it:
# sourcing starts the clock and, on exit, prints each phase's seconds and the total with the
# exit status.

run_started=$SECONDS
phase_name=""
phase_started=0
timings=()

# `phase NAME` ends the running phase (recording its time) and starts NAME.
phase() {
    finish_phase
    phase_name="$1"
    phase_started=$SECONDS
    echo
    echo "=== ${phase_name}"
}

finish_phase() {
    if [[ -n "$phase_name" ]]; then
        local took=$((SECONDS - phase_started))
        timings+=("$(printf '%5ds  %s' "$took" "$phase_name")")
        echo "=== ${phase_name}: ${took}s"
        phase_name=""
    fi
}

report_timings() {
    local status=$?
    finish_phase
    echo
    echo "=== timings"
    if ((${#timings[@]})); then
        printf '%s\n' "${timings[@]}"
    fi
    printf '%5ds  total (exit %d)\n' "$((SECONDS - run_started))" "$status"
}
trap report_timings EXIT

# `ensure_venv DIR` makes DIR a working venv, keeping the one there if its pip runs: README's
# install command and .ci/test share .venv, in either order, and neither undoes the other.
ensure_venv() {
    local dir="$1"
    if [[ -e "$dir" ]] && ! "$dir/bin/python" -m pip --version >/dev/null 2>&1; then
        echo "$dir is not a working venv (no python or pip): making it again"
        rm -rf "$dir"
    fi
    if [[ -e "$dir" ]]; then
        echo "reusing $dir ($("$dir/bin/python" --version))"
        return 0
    fi
    if ! python3 -m venv "$dir"; then
        # Debian splits venv's pip bootstrap into python3-venv.
        rm -rf "$dir"
        echo "python3 -m venv failed: install Debian's python3-venv" >&2
        return 1
    fi
}
