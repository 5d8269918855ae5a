#!/bin/bash
# webshell.sh SCRATCHDIR: a web application that runs shell commands for its
# visitors. A tiny HTTP server written in Python (SCRATCHDIR/webshell.py, run
# by /usr/bin/python3, listening on 127.0.0.1:47101) runs
# subprocess.run(["/bin/sh", "-c", "id; uname -a"]) on GET /cmd; the scenario
# requests /cmd once with /usr/bin/curl, and the server exits after that one
# request (it is killed by the EXIT trap otherwise, and by its own 15 s alarm
# whatever happens).
#
# Expected alert: rule lineaged.webshell
#   process.executable  /usr/bin/dash   (/bin/sh on Debian; dash, run by the
#                       listening python3.11, runs id and execs uname)
#   parent              /usr/bin/python3.11 (the web server)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin webshell "$@"

port=47101
port_free "$port" || die "127.0.0.1:$port is in use"
created "$SCRATCH/webshell.py"
created "$SCRATCH/webshell.ready"
cat >"$SCRATCH/webshell.py" <<'PY'
import http.server
import signal
import socketserver
import subprocess
import sys

signal.alarm(15)  # never outlive the scenario


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/cmd":
            self.send_error(404)
            return
        out = subprocess.run(["/bin/sh", "-c", "id; uname -a"],
                             capture_output=True).stdout
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer(("127.0.0.1", 47101), Handler) as srv:
    srv.timeout = 10
    open(sys.argv[1], "w").close()  # listening
    srv.handle_request()
PY

/usr/bin/python3 "$SCRATCH/webshell.py" "$SCRATCH/webshell.ready" &
srv=$!
track_pid "$srv"
wait_file "$SCRATCH/webshell.ready"

out=$(/usr/bin/curl -fsS --noproxy '*' --max-time 5 "http://127.0.0.1:$port/cmd")
log "GET /cmd answered: $(printf '%s' "$out" | head -n 1)"
case $out in
*uid=*) ;;
*) die "the web shell did not run id" ;;
esac
wait "$srv" || die "the server exited with $?"
