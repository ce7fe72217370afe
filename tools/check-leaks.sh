#!/bin/sh
# tools/check-leaks.sh DIR: fails when a LeakSanitizer report in DIR (make
# test-asan points LSAN_OPTIONS=log_path there; see the Makefile) holds a
# leak with a frame outside the sanitizer runtime, libc and Criterion, i.e.
# one that rivulet or a test made. Criterion's own runner leaks one 48-byte
# block at exit with no other frame, which is not ours to fix. (A
# suppression cannot say "only those frames": every test's stack passes
# through Criterion, so it would hide every leak.)
set -eu
dir=$1
status=0
for f in "$dir"/*; do
    [ -e "$f" ] || continue
    if awk '
        /^(Direct|Indirect) leak of / { if (inblock && ours) bad = 1; inblock = 1; ours = 0; next }
        inblock && /^ *#[0-9]+ / {
            if ($0 !~ /(asan_|lsan_|sanitizer_common|libcriterion|libc\.so|ld-linux|libstdc\+\+)/) ours = 1
            next
        }
        inblock && /^ *$/ { if (ours) bad = 1; inblock = 0 }
        END { if (inblock && ours) bad = 1; exit bad ? 1 : 0 }
    ' "$f"; then
        :
    else
        echo "=== $f"
        cat "$f"
        status=1
    fi
done
if [ $status -ne 0 ]; then
    echo "*** LeakSanitizer found leaks (reports above) ***" >&2
    exit 1
fi
echo "LeakSanitizer: no leak of rivulet's or a test's ($(ls "$dir" | wc -l) reports read)"
