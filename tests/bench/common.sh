# Shared by the benchmark scripts: builds the release pklscan when missing
# and measures commands. Source it after setting here, bin, work and runs.

ensure_release() {
    if [ ! -x "$bin" ]; then
        cmake -S "$here" -B "$here/build/release" -DCMAKE_BUILD_TYPE=Release -DPKS_TESTS=OFF >/dev/null
        cmake --build "$here/build/release" -j"$(nproc)" >/dev/null
    fi
}

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }

# Runs "$@" $runs times; prints "median_ms max_rss_kib" (RSS by /usr/bin/time).
measure() {
    local times=() rss=0
    for _ in $(seq "$runs"); do
        local t0 t1 r
        t0=$(date +%s%N)
        /usr/bin/time -o "$work/rss" -f '%M' "$@" >/dev/null 2>&1 || true
        t1=$(date +%s%N)
        r=$(tail -n 1 "$work/rss")
        times+=("$(( (t1 - t0) / 1000 ))")
        [ "$r" -gt "$rss" ] && rss=$r
    done
    printf '%s %s\n' "$(printf '%s\n' "${times[@]}" | awk '{print $1/1000}' | median)" "$rss"
}

# Writes FILE, a 1 GiB pickle whose bulk is four 256 MiB BINBYTES8 blobs
# (PROTO 4, EMPTY_LIST, MARK, 4 x BINBYTES8, APPENDS, STOP), unless it is
# already there.
make_blobs_1g() {
    local f=$1
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -eq 1073741848 ] && return 0
    {
        printf '\200\004]('
        for _ in 1 2 3 4; do
            printf '\216\000\000\000\020\000\000\000\000'
            head -c 268435456 /dev/zero
        done
        printf 'e.'
    } >"$f"
}
