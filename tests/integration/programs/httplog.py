#!/usr/bin/env python3
"""A tiny HTTP server that logs each client's source port (for curl).

    httplog.py ADDR PORT LOG

Answers every GET with "hello", HTTP/1.0 (the server closes the connection),
appends "PEER_ADDR PEER_PORT" to LOG before answering, creates LOG.ready once
it listens.  Runs without the shim, until killed.
"""
import http.server
import socket
import sys


def main():
    addr, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    out = open(log, "a")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            out.write(f"{self.client_address[0]} {self.client_address[1]}\n")
            out.flush()
            body = b"hello\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(http.server.HTTPServer):
        address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET

    server = Server((addr, port), Handler)
    open(log + ".ready", "w").close()
    server.serve_forever()


if __name__ == "__main__":
    main()
