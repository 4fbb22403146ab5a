#!/usr/bin/env python3
"""Ask a DNS server for the A records of a name over UDP, with only the standard library.

  dnsq.py SERVER NAME [TIMEOUT]   prints one address a line; exit 0 if there is at least one,
                                  1 on NXDOMAIN, no answer or a time-out

cluster/up.sh uses it to check the cluster DNS for real (through kube-proxy's Service rules)
instead of trusting a Deployment status that may be left over from before a restart.
"""

import random
import socket
import struct
import sys


def query(server, name, timeout):
    qid = random.randint(0, 0xFFFF)
    header = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)  # recursion desired, 1 question
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    packet = header + qname + struct.pack(">HH", 1, 1)  # A, IN
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, (server, 53))
        data, _ = s.recvfrom(4096)
    rid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", data[:12])
    if rid != qid:
        raise ValueError("answer to another query")
    rcode = flags & 0xF
    if rcode:
        raise ValueError(f"rcode {rcode}")
    pos = 12
    for _ in range(qd):  # skip the question
        while data[pos]:
            pos += data[pos] + 1
        pos += 5
    addrs = []
    for _ in range(an):
        if data[pos] & 0xC0 == 0xC0:  # compressed name
            pos += 2
        else:
            while data[pos]:
                pos += data[pos] + 1
            pos += 1
        rtype, _, _, rdlen = struct.unpack(">HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            addrs.append(socket.inet_ntoa(data[pos:pos + 4]))
        pos += rdlen
    return addrs


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    timeout = float(sys.argv[3]) if len(sys.argv) == 4 else 2.0
    try:
        addrs = query(sys.argv[1], sys.argv[2], timeout)
    except (OSError, ValueError, IndexError, struct.error) as e:
        print(f"dnsq: {sys.argv[2]} @{sys.argv[1]}: {e}", file=sys.stderr)
        return 1
    for a in addrs:
        print(a)
    return 0 if addrs else 1


if __name__ == "__main__":
    sys.exit(main())
