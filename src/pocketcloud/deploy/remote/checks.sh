# Run on the server by ``pocketcloud deploy``: ``sh -s -- KIND ARG... < checks.sh``.
# The waits and health checks of a deploy. Every value arrives as an argument, never as
# script text. POSIX sh (Debian's dash).
#
#   socket SOCKET HOST PATH...   the release's gunicorn, through its own socket: each PATH
#   port PORT HOST TRIES         a server on 127.0.0.1:PORT: /healthz
#   site HOST                    nginx, once: /healthz
#   release HOST RELEASE TRIES   nginx until RELEASE answers /healthz (X-Pocketcloud-Release)
#   nginx-pid                    until nginx has written its pid file
#   drain                        until nginx's old workers have finished (at most 10 s)
#   lock DIR HOLDER              make the lock DIR naming HOLDER, or fail naming who has it
#
# A check passes on 2xx, 3xx or 404 (the app runs but has no such page); a 5xx, a 400
# (Django's DisallowedHost: ALLOWED_HOSTS), nginx's 502 or no answer (000) fail it.
set -u
kind=$1
shift

good() {
    case $1 in 2??|3??|404) return 0 ;; esac
    return 1
}

# get TRIES URL CURL-ARG...: GET until it answers well (0.1 s apart); show the status
get() {
    tries=$1 url=$2
    shift 2
    i=0 code=000
    while [ "$i" -lt "$tries" ]; do
        code=$(curl -sS -o /dev/null -w '%{http_code}' "$@" "$url")
        good "$code" && break
        i=$((i + 1))
        sleep 0.1
    done
    echo "GET $url → $code"
    good "$code"
}

# until TRIES COMMAND...: run COMMAND until it succeeds, 0.1 s apart
until_ok() {
    tries=$1
    shift
    i=0
    while [ "$i" -lt "$tries" ]; do
        "$@" && return 0
        i=$((i + 1))
        sleep 0.1
    done
    return 1
}

case $kind in
socket)
    sock=$1 host=$2
    shift 2
    until_ok 200 test -S "$sock"
    for path in "$@"; do
        get 1 "http://localhost$path" --max-time 10 --unix-socket "$sock" -H "Host: $host" || exit 1
    done
    ;;
port)
    get "$3" "http://127.0.0.1:$1/healthz" --max-time 5 -H "Host: $2"
    ;;
site)
    get 1 http://127.0.0.1/healthz --max-time 5 -H "Host: $1"
    ;;
release)
    host=$1 release=$2 tries=$3 url=http://127.0.0.1/healthz
    i=0 code=000 rel=
    while [ "$i" -lt "$tries" ]; do
        head=$(curl -sS --max-time 5 -o /dev/null -D - -H "Host: $host" "$url" | tr -d '\r')
        code=$(echo "$head" | head -1 | cut -d' ' -f2)
        rel=$(echo "$head" | sed -n 's/^X-Pocketcloud-Release: //p')
        [ "$rel" = "$release" ] && break
        i=$((i + 1))
        sleep 0.1
    done
    echo "GET $url → $code from release $rel"
    [ "$rel" = "$release" ] && good "$code"
    ;;
nginx-pid)
    until_ok 50 test -s /run/nginx.pid
    ;;
drain)
    # [n]: pgrep must not find this script's own command line
    until_ok 100 sh -c "! pgrep -f '[n]ginx: worker process is shutting down' >/dev/null"
    true
    ;;
lock)
    if mkdir "$1" 2>/dev/null; then
        printf '%s\n' "$2" >"$1/holder"
    else
        echo "held by $(cat "$1/holder" 2>/dev/null || echo someone)"
        exit 1
    fi
    ;;
*)
    echo "checks.sh: unknown check $kind" >&2
    exit 2
    ;;
esac
