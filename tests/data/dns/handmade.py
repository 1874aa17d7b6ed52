#!/usr/bin/env python3
"""Build the hand-made DNS messages the parser tests use (hq-*.bin queries,
hr-*.bin responses): the malformed, hostile and boundary cases no real
server sends. Run once from anywhere; the .bin files are committed and
tests/unit/test_dnsmsg.c states what each must parse to.

    python3 tests/data/dns/handmade.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

QUERY_RD = 0x0100
RESP = 0x8180          # QR, RD, RA
A, NS, CNAME, TXT, AAAA, OPT = 1, 2, 5, 16, 28, 41
IN, CH = 1, 3


def header(qd, an=0, ns=0, ar=0, flags=QUERY_RD, ident=0x1234):
    return struct.pack(">HHHHHH", ident, flags, qd, an, ns, ar)


def name(*labels):
    out = b""
    for label in labels:
        if isinstance(label, str):
            label = label.encode()
        out += bytes([len(label)]) + label
    return out + b"\x00"


def ptr(offset):
    return struct.pack(">H", 0xC000 | offset)


def question(qname, qtype=A, qclass=IN):
    return qname + struct.pack(">HH", qtype, qclass)


def rr(owner, rtype, rdata, rclass=IN, ttl=300, rdlen=None):
    if rdlen is None:
        rdlen = len(rdata)
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, rdlen) + rdata


def opt(size=1232, do=False, options=b"", owner=b"\x00", rdlen=None):
    return rr(owner, OPT, options, rclass=size, ttl=0x8000 if do else 0,
              rdlen=rdlen)


def a(text):
    return bytes(int(x) for x in text.split("."))


def aaaa_fd00(last):
    return b"\xfd\x00" + b"\x00" * 13 + bytes([last])


EX = name("example", "com")          # at offset 12 in every message below
QEX = question(EX)
AFTER_Q = 12 + len(QEX)              # first byte after the question

queries = {
    "ok-plain": header(1) + QEX,
    "ok-edns-do-512": header(1, ar=1) + QEX + opt(512, do=True),
    "ok-edns-cookie": header(1, ar=1) + QEX + opt(4096, options=struct.pack(">HH", 10, 8) + b"\x01" * 8),
    "ok-root-ns": header(1) + question(b"\x00", NS),
    "ok-mixedcase": header(1) + question(name("ExAmPlE", "CoM")),
    # 63+63+63+61 octets of labels: 255 on the wire, 253 as text
    "ok-name-255": header(1) + question(name("a" * 63, "b" * 63, "c" * 63, "d" * 61)),
    "invalid-dot": header(1) + question(name("a.b", "com")),
    "invalid-backslash": header(1) + question(name("a\\b", "com")),
    "invalid-nul": header(1) + question(name(b"a\x00b", "com")),
    "invalid-ff": header(1) + question(name(b"a\xffb", "com")),
    "invalid-space": header(1) + question(name("a b", "com")),
    "qdcount-0": header(0),
    "qdcount-2": header(2) + QEX + question(name("other", "com")),
    "answer-in-query": header(1, an=1) + QEX + rr(ptr(12), A, a("198.19.0.9")),
    "authority-in-query": header(1, ns=1) + QEX + rr(b"\x00", NS, name("ns")),
    "ptr-in-question": header(1) + question(b"\x07example" + ptr(12)),
    "label-64": header(1) + question(b"\x40" + b"a" * 64 + b"\x03com\x00"),
    "label-type-80": header(1) + question(b"\x80" + b"a" * 10 + b"\x00"),
    "name-256": header(1) + question(name("a" * 63, "b" * 63, "c" * 63, "d" * 62)),
    "short-header": header(1)[:11],
    "cut-in-name": (header(1) + QEX)[:17],
    "cut-in-qtype": (header(1) + QEX)[:len(header(1) + QEX) - 3],
    "cut-in-opt": (header(1, ar=1) + QEX + opt())[:AFTER_Q + 7],
    "trailing-byte": header(1) + QEX + b"\x00",
    "class-any": header(1) + question(EX, A, 255),
    "class-ch": header(1) + question(name("version", "bind"), TXT, CH),
    "opcode-notify": header(1, flags=(4 << 11) | QUERY_RD) + QEX,
    "qr-set": header(1, flags=0x8100) + QEX,
    "ar-not-opt": header(1, ar=1) + QEX + rr(b"\x00", A, a("198.19.0.9")),
    "arcount-2": header(1, ar=2) + QEX + opt() + opt(),
    "opt-owner-not-root": header(1, ar=1) + QEX + opt(owner=name("x")),
    "opt-owner-pointer": header(1, ar=1) + QEX + opt(owner=ptr(12 + len(EX) - 1)),
    "opt-option-overrun": header(1, ar=1) + QEX + opt(options=struct.pack(">HH", 10, 9) + b"\x01" * 8),
    "aaaa": header(1) + question(EX, AAAA),
    "txt": header(1) + question(EX, TXT),
}

RH = lambda an=1, ns=0, ar=0, qd=1, flags=RESP: header(qd, an, ns, ar, flags)
A9 = a("198.19.0.9")


def chain_jumps(jumps):
    """A TXT record whose RDATA is a chain of pointers, each pointing at the
    one before it, the first at the question name; then an A record whose
    owner enters the chain at its end: `jumps` pointers followed in all."""
    n = jumps - 1                      # pointers inside the TXT RDATA
    txt_owner = ptr(12)
    rdata_at = AFTER_Q + len(txt_owner) + 10
    rdata = ptr(12)
    for i in range(1, n):
        rdata += ptr(rdata_at + 2 * (i - 1))
    last = rdata_at + 2 * (n - 1)
    return RH(an=2) + QEX + rr(txt_owner, TXT, rdata) + rr(ptr(last), A, A9)


def many(count):
    return RH(an=count) + QEX + b"".join(
        rr(ptr(12), A, bytes([198, 19, 2, i % 256])) for i in range(count))


def loop_two():
    # answer owner: label "x" then a pointer to the A record's RDATA start,
    # which holds a pointer back to "x": a two-step loop.
    owner_at = AFTER_Q
    owner = b"\x01x" + ptr(owner_at + 4 + 10 + 1)   # the pointer in RDATA
    return RH() + QEX + rr(owner, TXT, b"\x00" + ptr(owner_at))


chain_msg = (RH(an=4) + QEX
             + rr(ptr(12), CNAME, name("b", "example", "net"))
             + rr(name("B", "EXAMPLE", "NET"), CNAME, b"\x01c" + ptr(12))
             + rr(name("c", "example", "com"), A, a("198.19.0.7"))
             + rr(name("other", "com"), A, a("198.19.0.8")))

LONG4 = name("a" * 60, "b" * 60, "c" * 60, "d" * 60)   # 245 octets

responses = {
    "ok-a": RH() + QEX + rr(ptr(12), A, A9),
    "ok-cname-chain": chain_msg,
    "ok-many-100": many(100),
    "ok-jumps-128": chain_jumps(128),
    "jumps-129": chain_jumps(129),
    "ok-other-class-and-type": RH(an=2) + QEX + rr(ptr(12), A, A9, rclass=CH) + rr(ptr(12), TXT, b"\x02hi"),
    "ok-ttl-top-bit": RH() + QEX + rr(ptr(12), A, A9, ttl=0x80000001),
    "ok-invalid-owner": RH() + QEX + rr(name(b"\xff", "com"), A, A9),
    "ok-edns-authority-additional": RH(an=1, ns=1, ar=2) + QEX + rr(ptr(12), A, A9)
        + rr(ptr(20), NS, name("ns1", "example", "com")) + rr(name("ns1", "example", "com"), A, A9) + opt(),
    "ok-nxdomain": RH(an=0, flags=0x8183) + QEX,
    "loop-self": RH() + QEX + rr(ptr(AFTER_Q), A, A9),
    "loop-two": loop_two(),
    "forward-ptr": RH() + QEX + rr(ptr(AFTER_Q + 2), A, A9),
    "ptr-into-header": RH() + QEX + rr(ptr(2), A, A9),
    "name-over-255-compressed": RH() + question(LONG4) + rr(b"\x3f" + b"e" * 63 + ptr(12), A, A9),
    "label-type-40": RH() + QEX + rr(b"\x41" + b"x" * 65 + b"\x00", A, A9),
    "a-rdlen-5": RH() + QEX + rr(ptr(12), A, A9 + b"\x00"),
    "a-rdlen-3": RH() + QEX + rr(ptr(12), A, A9[:3]),
    "aaaa-rdlen-4": RH() + question(EX, AAAA) + rr(ptr(12), AAAA, A9),
    "cname-target-short": RH() + QEX + rr(ptr(12), CNAME, name("b", "net") + b"\x00"),
    "cname-target-long": RH() + QEX + rr(ptr(12), CNAME, name("b", "net"), rdlen=4) + b"\x00" * 2,
    "cut-in-rdata": (RH() + QEX + rr(ptr(12), A, A9))[:-1],
    "cut-in-rr-header": (RH() + QEX + rr(ptr(12), A, A9))[:AFTER_Q + 7],
    "cut-in-authority": (RH(an=0, ns=1) + QEX + rr(ptr(12), NS, name("ns")))[:-2],
    "ancount-too-high": RH(an=2) + QEX + rr(ptr(12), A, A9),
    "qr-clear": RH(flags=0x0180) + QEX + rr(ptr(12), A, A9),
    "qdcount-0": RH(an=0, qd=0),
    "qdcount-2": RH(an=0, qd=2) + QEX + QEX,
    "two-opt": RH(an=0, ar=2) + QEX + opt() + opt(),
    "trailing-byte": RH() + QEX + rr(ptr(12), A, A9) + b"\x00",
    "ptr-in-question": RH(an=0) + question(b"\x01x" + ptr(12)),
}


def main():
    for prefix, table in (("hq", queries), ("hr", responses)):
        for key, data in table.items():
            with open(os.path.join(HERE, "%s-%s.bin" % (prefix, key)), "wb") as f:
                f.write(data)
    print("%d queries, %d responses" % (len(queries), len(responses)))


if __name__ == "__main__":
    main()
