#!/usr/bin/env python3
"""Builds the hand-made ClientHello variants in this folder for test_tlshello.

The captured hellos (openssl_*.bin, curl_*.bin) came from real clients; these
are built field by field so that each one breaks or stretches exactly one
rule. Run from this folder: python3 make_variants.py. Output is deterministic.
"""
import struct

RANDOM = bytes(range(32))
SUITES = [0x1301, 0x1302, 0xc02f, 0xc030]


def u8(n): return struct.pack("!B", n)
def u16(n): return struct.pack("!H", n)
def u24(n): return struct.pack("!I", n)[1:]


def ext(etype, data):
    return u16(etype) + u16(len(data)) + data


def sni_ext(*names, name_type=0, list_len=None):
    entries = b"".join(u8(name_type) + u16(len(n)) + n for n in names)
    return ext(0, u16(len(entries) if list_len is None else list_len) + entries)


def alpn_ext(*protos):
    lst = b"".join(u8(len(p)) + p for p in protos)
    return ext(16, u16(len(lst)) + lst)


def versions_ext(*versions):
    lst = b"".join(u16(v) for v in versions)
    return ext(43, u8(len(lst)) + lst)


def padding_ext(n):
    return ext(21, b"\0" * n)


STD_EXTS = [sni_ext(b"allowed.test"), alpn_ext(b"h2", b"http/1.1"),
            versions_ext(0x0304, 0x0303)]


def body(exts=None, session=b"\xab" * 32, suites=None, comp=b"\x00",
         ext_len=None, tail=b""):
    suites = b"".join(u16(s) for s in SUITES) if suites is None else suites
    b = u16(0x0303) + RANDOM + u8(len(session)) + session
    b += u16(len(suites)) + suites + u8(len(comp)) + comp
    if exts is not None:
        e = b"".join(exts)
        b += u16(len(e) if ext_len is None else ext_len) + e
    return b + tail


def handshake(b, msg_type=1, length=None):
    return u8(msg_type) + u24(len(b) if length is None else length) + b


def record(payload, rtype=22, version=0x0301, length=None):
    return u8(rtype) + u16(version) + \
        u16(len(payload) if length is None else length) + payload


def records(hs, cuts):
    """hs split into records at the given offsets of the handshake bytes."""
    out, prev = b"", 0
    for c in list(cuts) + [len(hs)]:
        out += record(hs[prev:c])
        prev = c
    return out


def hello(**kw):
    return handshake(body(**kw))


def write(name, data):
    with open(name + ".bin", "wb") as f:
        f.write(data)


base = hello(exts=STD_EXTS)
sni_at = base.index(b"allowed.test")

# Accepted.
write("good_one_record", record(base))
write("good_two_records", records(base, [100]))
write("good_split_in_sni", records(base, [sni_at + 5]))
write("good_split_in_hs_header", records(base, [1, 2, 3]))
write("good_byte_records", records(base, range(1, len(base))))
write("good_padding_16k", records(
    hello(exts=STD_EXTS + [padding_ext(16500)]), [16384]))
write("good_ech", record(hello(exts=[sni_ext(b"public.test"),
                                     ext(0xfe0d, b"\x00" + b"\x11" * 40),
                                     versions_ext(0x0304)])))
write("good_no_extensions", record(hello(exts=None)))
write("good_empty_extensions", record(hello(exts=[])))
write("good_no_sni", record(hello(exts=[alpn_ext(b"http/1.1")])))
write("good_sni_255", record(hello(exts=[sni_ext(b"a" * 255)])))
write("good_sni_raw_nul", record(hello(exts=[sni_ext(b"a\0b.test")])))
write("good_alpn_many", record(hello(exts=[alpn_ext(
    *[b"p%d" % i for i in range(9)], b"x" * 40)])))
write("good_unknown_exts", record(hello(exts=[ext(0x1234, b"abc"), ext(0xfafa, b""),
                                              sni_ext(b"allowed.test")])))
write("good_empty_session", record(hello(exts=STD_EXTS, session=b"")))
# Bytes after the hello inside its record, then an application_data record.
write("good_tail_in_record", record(base + b"\x0b\x00\x00\x00tail"))
write("good_then_appdata", record(base) + record(b"early data", rtype=23))
write("good_tls12_record_version", record(base, version=0x0303))

# Refused.
write("bad_two_host_names", record(hello(exts=[sni_ext(b"allowed.test", b"evil.test")])))
write("bad_duplicate_sni_ext", record(hello(exts=[sni_ext(b"allowed.test"),
                                                  sni_ext(b"evil.test")])))
write("bad_duplicate_alpn_ext", record(hello(exts=[alpn_ext(b"h2"), alpn_ext(b"h2")])))
write("bad_zero_length_name", record(hello(exts=[sni_ext(b"")])))
write("bad_sni_256", record(hello(exts=[sni_ext(b"a" * 256)])))
write("bad_sni_list_mismatch", record(hello(exts=[sni_ext(b"allowed.test", list_len=20)])))
write("bad_sni_other_type", record(hello(exts=[sni_ext(b"allowed.test", name_type=1)])))
write("bad_sni_empty_list", record(hello(exts=[ext(0, u16(0))])))
write("bad_sni_empty_ext", record(hello(exts=[ext(0, b"")])))
write("bad_ext_overrun", record(hello(exts=[ext(0x1234, b"abc")[:2] + u16(50) + b"abc"])))
write("bad_junk_after_extensions", record(hello(exts=STD_EXTS, tail=b"\x00\x00")))
write("bad_ext_len_overrun", record(hello(exts=STD_EXTS, ext_len=500)))
write("bad_stray_byte_after_compression", record(hello(exts=None, tail=b"\x00")))
write("bad_session_id_33", record(hello(exts=STD_EXTS, session=b"\x01" * 33)))
write("bad_odd_cipher_suites", record(hello(exts=STD_EXTS, suites=b"\x13\x01\x13")))
write("bad_no_cipher_suites", record(hello(exts=STD_EXTS, suites=b"")))
write("bad_no_compression", record(hello(exts=STD_EXTS, comp=b"")))
write("bad_server_hello", record(handshake(body(exts=STD_EXTS), msg_type=2)))
write("bad_hello_too_short", record(handshake(b"\x03\x03" + b"\0" * 20)))
write("bad_cut_in_suites", record(handshake(body(exts=STD_EXTS)[:72])))
write("bad_alpn_empty_proto", record(hello(exts=[alpn_ext(b"h2", b"")])))
write("bad_alpn_list_mismatch", record(hello(exts=[ext(16, u16(9) + b"\x02h2")])))
write("bad_versions_odd", record(hello(exts=[ext(43, b"\x03\x03\x04\x03")])))
write("bad_ccs_between", record(base[:50]) + record(b"\x01", rtype=20)
      + record(base[50:]))
write("bad_appdata_between", record(base[:50]) + record(b"data", rtype=23)
      + record(base[50:]))
write("bad_alert_between", record(base[:50]) + record(b"\x02\x28", rtype=21))
write("bad_record_major_2", record(base, version=0x0201))
write("bad_zero_length_record", record(b"") + record(base))
write("bad_zero_length_record_middle", record(base[:50]) + record(b"") + record(base[50:]))
write("bad_record_16385", record(b"", length=16385))
big = hello(exts=STD_EXTS + [padding_ext(1100)])
write("bad_too_many_records", records(big, range(1, len(big))))

# Not TLS at all.
write("nottls_alert_first", record(b"\x02\x28", rtype=21))
write("nottls_sslv2", bytes.fromhex("802e0100020015000000100700c00500800300800100800600400400800200804c91d28b38fa27d3d29d7c2512c6c7c5"))
write("nottls_http", b"GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n")
write("nottls_ccs_first", record(b"\x01", rtype=20))

# A hello whose header claims 65537 bytes: refused on sight of the header.
with open("bad_hello_too_long.bin", "wb") as f:
    f.write(record(u8(1) + u24(65537) + base[4:]))
