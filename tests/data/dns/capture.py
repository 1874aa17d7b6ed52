#!/usr/bin/env python3
"""Capture real DNS queries (dig) and responses (dnsmasq) as .bin files.

Run once when the test data is (re)made; the .bin files are committed and
tests/unit/test_dnsmsg.c knows what each one holds. dnsmasq listens on
127.0.0.1:5399 only, authoritative for the made-up zone "test"; a UDP proxy
on 127.0.0.1:5398 sits between dig and dnsmasq and writes what passes.
Nothing leaves the loopback interface.

    python3 tests/data/dns/capture.py   # from the top of the tree
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = ("127.0.0.1", 5399)
PROXY = ("127.0.0.1", 5398)

# name of the pair -> dig arguments
CASES = [
    ("allowed-a", ["allowed.test", "A"]),
    ("allowed-aaaa-noedns", ["+noedns", "allowed.test", "AAAA"]),
    ("allowed-a-dnssec", ["+dnssec", "allowed.test", "A"]),
    ("mixedcase-a", ["AlLoWeD.TeSt", "A"]),
    ("cname-chain-a", ["alias2.test", "A"]),
    ("cname-chain-aaaa", ["alias2.test", "AAAA"]),
    ("many-a-edns", ["+bufsize=4096", "many.test", "A"]),
    ("many-a-noedns", ["+noedns", "+ignore", "many.test", "A"]),
    ("nxdomain-a", ["nothere.test", "A"]),
    ("txt", ["txt.test", "TXT"]),
    ("mx", ["mx.test", "MX"]),
    ("nodata-mx", ["allowed.test", "MX"]),
    ("chaos-version", ["version.bind", "TXT", "CH"]),
]


def dnsmasq_args(hosts):
    return [
        "dnsmasq", "--no-daemon", "--port=%d" % SERVER[1],
        "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
        "--no-hosts", "--pid-file=", "--user=root", "--local=/test/",
        "--local-ttl=300",
        "--addn-hosts=" + hosts,
        "--address=/allowed.test/198.19.0.2",
        "--address=/allowed.test/fd00::2",
        "--host-record=www.allowed.test,198.19.0.3,fd00::3",
        "--cname=alias.test,www.allowed.test",
        "--cname=alias2.test,alias.test",
        "--txt-record=txt.test,hello world",
        "--mx-host=mx.test,www.allowed.test,10",
    ]


class Proxy(threading.Thread):
    """Forward one query at a time and remember the last exchange."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(PROXY)
        self.up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.up.settimeout(2)
        self.exchange = None

    def run(self):
        while True:
            query, client = self.sock.recvfrom(65535)
            self.up.sendto(query, SERVER)
            resp, _ = self.up.recvfrom(65535)
            self.exchange = (query, resp)
            self.sock.sendto(resp, client)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        hosts = os.path.join(tmp, "many")
        with open(hosts, "w") as f:
            for i in range(1, 71):
                f.write("198.19.1.%d many.test\n" % i)
        server = subprocess.Popen(dnsmasq_args(hosts), stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            proxy = Proxy()
            proxy.start()
            for name, args in CASES:
                proxy.exchange = None
                subprocess.run(["dig", "-p", str(PROXY[1]), "@" + PROXY[0],
                                "+tries=1", "+time=2"] + args,
                               check=True, stdout=subprocess.DEVNULL)
                time.sleep(0.05)
                if proxy.exchange is None:
                    sys.exit("no exchange for " + name)
                query, resp = proxy.exchange
                for kind, data in (("q", query), ("r", resp)):
                    with open(os.path.join(HERE, "%s-%s.bin" % (kind, name)), "wb") as f:
                        f.write(data)
                print(name, len(query), len(resp))
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
