#!/usr/bin/env python3
"""A tiny HTTP server on loopback that answers every request with the
client's source port, and writes each port it saw to a file.

    port-recorder.py PORTFILE OUTFILE

It prints nothing; it writes its own listening port to PORTFILE once ready
and stops after 60 s or when killed."""
import http.server
import socketserver
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        port = self.client_address[1]
        with open(sys.argv[2], "a") as out:
            out.write(f"{port}\n")
        body = f"{port}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
threading.Timer(60, server.shutdown).start()
with open(sys.argv[1], "w") as f:
    f.write(f"{server.server_address[1]}\n")
server.serve_forever()
