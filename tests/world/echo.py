#!/usr/bin/python3
# A plain TCP and UDP echo service for the test world's upstream namespace:
# a non-HTTP port that the gateway's rules must judge like any other.
# Usage: echo.py PORT (listens on every address of its namespace, v4 and v6).
import socket
import socketserver
import sys
import threading


class TCPEcho(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)


class UDPEcho(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data, self.client_address)


class DualStack:
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True

    def server_bind(self):
        # One socket for both families: the world has only test addresses.
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class TCPServer(DualStack, socketserver.ThreadingTCPServer):
    pass


class UDPServer(DualStack, socketserver.UDPServer):
    pass


def main():
    port = int(sys.argv[1])
    tcp = TCPServer(("::", port), TCPEcho)
    udp = UDPServer(("::", port), UDPEcho)
    threading.Thread(target=udp.serve_forever, daemon=True).start()
    print("echo: tcp and udp port %d" % port, flush=True)
    tcp.serve_forever()


if __name__ == "__main__":
    main()
