#!/usr/bin/python3
# A plain TCP and UDP echo service for the test world's upstream namespace:
# a non-HTTP port that the gateway's rules must judge like any other.
# Usage: echo.py PORT (listens on every address of its namespace, v4 and v6).
import socket
import socketserver
import struct
import sys
import threading

# Not in Python's socket module; <linux/in.h>.
IP_PKTINFO = 8


class TCPEcho(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)


class TCPServer(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True

    def server_bind(self):
        # One socket for both families: an accepted TCP socket answers
        # from the address it was reached at anyway.
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def udp_socket(family, port):
    # A wildcard UDP socket would answer from whichever address the kernel
    # picks for the peer, which conntrack then does not see as a reply. So
    # each datagram's destination is read (PKTINFO) and used as the source
    # of the answer.
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        s.bind(("::", port))
    else:
        s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        s.bind(("0.0.0.0", port))
    return s


def udp_serve(s):
    v6 = s.family == socket.AF_INET6
    while True:
        data, anc, _, peer = s.recvmsg(65536, socket.CMSG_SPACE(32))
        reply = []
        for level, kind, cdata in anc:
            if v6 and level == socket.IPPROTO_IPV6 and \
                    kind == socket.IPV6_PKTINFO:
                # struct in6_pktinfo: address, ifindex; the same back.
                reply = [(level, kind, cdata)]
            elif not v6 and level == socket.IPPROTO_IP and \
                    kind == IP_PKTINFO:
                # struct in_pktinfo: ifindex, spec_dst, addr. Answer
                # from addr (where it was sent), any interface.
                addr = cdata[8:12]
                reply = [(level, kind, struct.pack("=i4s4s", 0, addr,
                                                   b"\0" * 4))]
        s.sendmsg([data], reply, 0, peer)


def main():
    port = int(sys.argv[1])
    tcp = TCPServer(("::", port), TCPEcho)
    for family in (socket.AF_INET, socket.AF_INET6):
        threading.Thread(target=udp_serve, args=(udp_socket(family, port),),
                         daemon=True).start()
    print("echo: tcp and udp port %d" % port, flush=True)
    tcp.serve_forever()


if __name__ == "__main__":
    main()
