#!/usr/bin/env python3
"""Independent check of the maillage envelope test vectors (envelope.json), protocol v2.

Shares no code with the Rust implementation:
- ids and the FederationId are recomputed with hashlib (SHA-256 over the domain tag and bytes);
- every signature is verified by the pure-Python Edwards arithmetic below under protocol v2's
  cofactored strict rule (canonical key and R, neither of small order, S < l, and
  [8]([S]B - R - [k]A) = O), and by PyNaCl, i.e. libsodium's crypto_sign_verify_detached, whose
  cofactorless verdict (protocol v1's) must be the vector's `cofactorless_strict_accepts`;
- the twelve ed25519-speccheck cases (speccheck.json, beside envelope.json) get their expected
  verdicts from the same pure-Python rule;
- payloads and the charter are read with the small protobuf wire-format reader below
  (varints and length-delimited fields only, no protobuf library);
- the protocol version (the charter's field 5; every valid event's field 1), the 64 KiB limit,
  the federation field, charter membership and the chain (seq/prev against the events named
  in `follows`) are checked here.

The pure-Python rule also says *why* a signature is refused (small-order key, non-canonical
S...); a pure-Python cofactorless verifier must agree with libsodium, and a lax cofactored
verifier with `lax_accepts`.

Prints one line per vector and a final line `N passed, M failed`; exits non-zero on any failure.

Usage: check_vectors.py [path/to/envelope.json]
"""

import hashlib
import json
import sys
from pathlib import Path

try:
    import nacl.exceptions
    import nacl.signing
except ImportError:  # pragma: no cover - reported, not hidden
    print("PyNaCl is not installed: pip install pynacl", file=sys.stderr)
    sys.exit(2)

EVENT_TAG = b"maillage/v1/event\0"
SIGN_TAG = b"maillage/v1/sign\0"
CHARTER_TAG = b"maillage/v1/charter\0"
PAYLOAD_BYTES_MAX = 64 * 1024
ROLE_HUB = 1
# The protocol version this checker implements.
PROTOCOL_VERSION = 2

# Failure codes that a verifier can only report as "the equation does not hold".
BAD_SIGNATURE = {"wrong_signature", "flipped_payload_byte"}


# ---------------------------------------------------------------------------------------------
# Protobuf wire format: just what the envelope needs.


class WireError(Exception):
    pass


def read_varint(buf, pos):
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift >= 70:
            raise WireError("varint longer than 10 bytes")
    if result >= 1 << 64:
        raise WireError("varint above 64 bits")
    return result, pos


def read_fields(buf):
    """Yields (field number, wire type, value): int for varints, bytes otherwise."""
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire_type == 0:
            value, pos = read_varint(buf, pos)
        elif wire_type == 2:
            length, pos = read_varint(buf, pos)
            if pos + length > len(buf):
                raise WireError(f"field {number}: length {length} past the end")
            value = bytes(buf[pos : pos + length])
            pos += length
        elif wire_type == 1:
            if pos + 8 > len(buf):
                raise WireError("truncated fixed64")
            value = bytes(buf[pos : pos + 8])
            pos += 8
        elif wire_type == 5:
            if pos + 4 > len(buf):
                raise WireError("truncated fixed32")
            value = bytes(buf[pos : pos + 4])
            pos += 4
        else:
            raise WireError(f"field {number}: unsupported wire type {wire_type}")
        yield number, wire_type, value


def expect(number, wire_type, wanted):
    if wire_type != wanted:
        raise WireError(f"field {number}: wire type {wire_type}, expected {wanted}")


BODY_FIELDS = {
    20: "venue_registered",
    21: "venue_updated",
    22: "venue_closed",
    23: "venue_qualified",
    24: "venue_qualification_revoked",
}


def parse_event_ref(buf):
    ref = {"author": b"", "seq": 0, "id": b""}
    for number, wire_type, value in read_fields(buf):
        if number == 1:
            expect(number, wire_type, 2)
            ref["author"] = value
        elif number == 2:
            expect(number, wire_type, 0)
            ref["seq"] = value
        elif number == 3:
            expect(number, wire_type, 2)
            ref["id"] = value
    return ref


def parse_event(buf):
    """The envelope header of an Event payload (protobuf semantics: last scalar wins)."""
    event = {
        "version": 0,
        "federation": b"",
        "author": b"",
        "seq": 0,
        "prev": b"",
        "hlc": 0,
        "deps": [],
        "body": "none",
    }
    for number, wire_type, value in read_fields(buf):
        if number == 1:
            expect(number, wire_type, 0)
            event["version"] = value & 0xFFFFFFFF
        elif number == 2:
            expect(number, wire_type, 2)
            event["federation"] = value
        elif number == 3:
            expect(number, wire_type, 2)
            event["author"] = value
        elif number == 4:
            expect(number, wire_type, 0)
            event["seq"] = value
        elif number == 5:
            expect(number, wire_type, 2)
            event["prev"] = value
        elif number == 6:
            expect(number, wire_type, 0)
            event["hlc"] = value
        elif number == 7:
            expect(number, wire_type, 2)
            event["deps"].append(parse_event_ref(value))
        elif number in BODY_FIELDS:
            expect(number, wire_type, 2)
            event["body"] = BODY_FIELDS[number]
    return event


def parse_charter(buf):
    charter = {
        "version": 0,
        "name": "",
        "admission_threshold": 0,
        "members": [],
        "protocol_version": 0,
    }
    for number, wire_type, value in read_fields(buf):
        if number == 1:
            expect(number, wire_type, 0)
            charter["version"] = value & 0xFFFFFFFF
        elif number == 2:
            expect(number, wire_type, 2)
            charter["name"] = value.decode("utf-8")
        elif number == 3:
            expect(number, wire_type, 0)
            charter["admission_threshold"] = value & 0xFFFFFFFF
        elif number == 4:
            expect(number, wire_type, 2)
            member = {"key": b"", "name": "", "role": 0, "territories": []}
            for n, wt, v in read_fields(value):
                if n == 1:
                    expect(n, wt, 2)
                    member["key"] = v
                elif n == 2:
                    expect(n, wt, 2)
                    member["name"] = v.decode("utf-8")
                elif n == 3:
                    expect(n, wt, 0)
                    member["role"] = v
                elif n == 4:
                    expect(n, wt, 2)
                    member["territories"].append(v.decode("utf-8"))
            charter["members"].append(member)
        elif number == 5:
            expect(number, wire_type, 0)
            charter["protocol_version"] = value & 0xFFFFFFFF
    return charter


# ---------------------------------------------------------------------------------------------
# Edwards25519 arithmetic (RFC 8032 section 5.1), for diagnosis and the two extra opinions.

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def point_add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = 2 * t1 * t2 * D % P
    dd = 2 * z1 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def point_neg(a):
    x, y, z, t = a
    return (-x % P, y, z, -t % P)


IDENTITY = (0, 1, 1, 0)


def point_mul(scalar, point):
    result = IDENTITY
    while scalar > 0:
        if scalar & 1:
            result = point_add(result, point)
        point = point_add(point, point)
        scalar >>= 1
    return result


def is_identity(a):
    x, y, z, _ = a
    return x % P == 0 and (y - z) % P == 0


def decode_point(data, strict):
    """Decodes 32 bytes; `strict` refuses y >= p and a sign bit on x = 0 (RFC 8032)."""
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little") & ((1 << 255) - 1)
    sign = data[31] >> 7
    if y >= P:
        if strict:
            return None
        y -= P
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        if sign and strict:
            return None
        x = 0
    else:
        x = pow(x2, (P + 3) // 8, P)
        if (x * x - x2) % P != 0:
            x = x * SQRT_M1 % P
        if (x * x - x2) % P != 0:
            return None
        if x & 1 != sign:
            x = P - x
    return (x, y, 1, x * y % P)


def encode_point(a):
    x, y, z, _ = a
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


BASE = decode_point(
    bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666"), True
)


def is_small_order(a):
    return is_identity(point_mul(8, a))


def is_torsion_free(a):
    return is_identity(point_mul(L, a))


def challenge(r_bytes, a_bytes, message):
    digest = hashlib.sha512(r_bytes + a_bytes + message).digest()
    return int.from_bytes(digest, "little") % L


def non_canonical_encoding(data):
    y = int.from_bytes(data, "little") & ((1 << 255) - 1)
    return y >= P or (y in (1, P - 1) and data[31] >> 7 == 1)


def diagnose(pk, message, sig):
    """Why protocol v2's rule refuses this signature (pure Python); None if it accepts it.

    The cofactored strict rule: the key and R canonical encodings of points that are not of
    small order, S < l, and [8]([S]B - R - [k]A) = O."""
    if len(pk) != 32 or len(sig) != 64:
        return "bad_length"
    if non_canonical_encoding(pk):
        return "non_canonical_key"
    a = decode_point(pk, True)
    if a is None:
        return "key_not_a_point"
    if is_small_order(a):
        return "small_order_key"
    r_bytes, s = sig[:32], int.from_bytes(sig[32:], "little")
    if s >= L:
        return "non_canonical_s"
    if non_canonical_encoding(r_bytes):
        return "non_canonical_r"
    r = decode_point(r_bytes, True)
    if r is None:
        return "r_not_a_point"
    if is_small_order(r):
        return "small_order_r"
    k = challenge(r_bytes, pk, message)
    diff = point_add(point_add(point_mul(s, BASE), point_neg(point_mul(k, a))), point_neg(r))
    return None if is_small_order(diff) else "bad_signature"


def cofactorless_strict_accepts(pk, message, sig):
    """Protocol v1's rule (libsodium, verify_strict): v2's checks of the encodings, then
    R = [S]B - [k]A exactly (compared as encodings)."""
    if diagnose(pk, message, sig) is not None:
        return False
    a = decode_point(pk, True)
    s = int.from_bytes(sig[32:], "little")
    k = challenge(sig[:32], pk, message)
    return encode_point(point_add(point_mul(s, BASE), point_neg(point_mul(k, a)))) == sig[:32]


def lax_accepts(pk, message, sig):
    """Cofactored, encodings reduced mod p, S reduced mod l, no small-order check."""
    if len(pk) != 32 or len(sig) != 64:
        return False
    a = decode_point(pk, False)
    r = decode_point(sig[:32], False)
    if a is None or r is None:
        return False
    s = int.from_bytes(sig[32:], "little") % L
    k = challenge(sig[:32], pk, message)
    diff = point_add(point_add(point_mul(s, BASE), point_neg(point_mul(k, a))), point_neg(r))
    return is_small_order(diff)


def libsodium_verify(pk, message, sig):
    """PyNaCl's verdict (libsodium crypto_sign_verify_detached)."""
    try:
        nacl.signing.VerifyKey(bytes(pk)).verify(bytes(message), bytes(sig))
        return True
    except nacl.exceptions.BadSignatureError:
        return False
    except (ValueError, TypeError, nacl.exceptions.CryptoError):
        return False


def normalize(reason):
    return "bad_signature" if reason in BAD_SIGNATURE else reason


# ---------------------------------------------------------------------------------------------
# The checks.


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def line(self, ok, what, detail):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {detail}")


def tag_hash(tag, data):
    return hashlib.sha256(tag + data).digest()


def check_charter(report, label, cv):
    problems = []
    raw = bytes.fromhex(cv["bytes"])
    fid = tag_hash(CHARTER_TAG, raw).hex()
    if fid != cv["federation_id"]:
        problems.append(f"FederationId {cv['federation_id']}, hashlib says {fid}")
    try:
        charter = parse_charter(raw)
    except (WireError, UnicodeDecodeError) as e:
        report.line(False, label, f"does not parse: {e}")
        return None
    if charter["version"] != 1:
        problems.append(f"version {charter['version']}")
    if charter["protocol_version"] != PROTOCOL_VERSION:
        problems.append(f"protocol_version {charter['protocol_version']}, expected {PROTOCOL_VERSION}")
    if charter["protocol_version"] != cv["protocol_version"]:
        problems.append(f"protocol_version {charter['protocol_version']}, vector says {cv['protocol_version']}")
    if charter["name"] != cv["name"]:
        problems.append(f"name {charter['name']!r} != {cv['name']!r}")
    if charter["admission_threshold"] != cv["admission_threshold"]:
        problems.append("admission threshold")
    keys = [m["key"] for m in charter["members"]]
    if keys != sorted(keys) or len(set(keys)) != len(keys):
        problems.append("members not sorted by key or repeated")
    report.line(
        not problems,
        label,
        "; ".join(problems) or f"FederationId {fid}, {len(keys)} members",
    )
    return charter


def check_keys(report, vectors, charter):
    members = {m["key"]: m for m in charter["members"]}
    for key in vectors["keys"]:
        problems = []
        seed = bytes.fromhex(key["seed"])
        if hashlib.sha256(key["seed_label"].encode("utf-8")).digest() != seed:
            problems.append("seed != SHA-256(seed_label)")
        public = bytes(nacl.signing.SigningKey(seed).verify_key)
        if public.hex() != key["public_key"]:
            problems.append(f"public key {key['public_key']}, PyNaCl derives {public.hex()}")
        member = members.get(public)
        if member is None:
            problems.append("not in the charter")
        else:
            if member["role"] != ROLE_HUB or key["role"] != "hub":
                problems.append("not a hub")
            if member["name"] != key["name"]:
                problems.append(f"charter name {member['name']!r}")
            if sorted(member["territories"]) != sorted(key["territories"]):
                problems.append("territories differ")
        point = decode_point(public, True)
        if point is None or is_small_order(point) or not is_torsion_free(point):
            problems.append("not a prime-order point")
        report.line(not problems, f"key {key['name']}", "; ".join(problems) or public.hex())


def event_failures(ev, fid, protocol_version, hubs, by_name, problems):
    """The list of rules this event breaks (empty: valid). Vector inconsistencies go to
    `problems` (they fail the vector whatever the verdict)."""
    failures = []
    payload = bytes.fromhex(ev["payload"])
    sig = bytes.fromhex(ev["signature"])
    event_id = tag_hash(EVENT_TAG, payload)
    if event_id.hex() != ev["id"]:
        problems.append(f"id {ev['id']}, hashlib says {event_id.hex()}")
    if len(payload) != ev["payload_len"]:
        problems.append(f"payload_len {ev['payload_len']}, found {len(payload)}")
    if len(payload) > PAYLOAD_BYTES_MAX:
        failures.append("oversize")
    try:
        hdr = parse_event(payload)
    except WireError as e:
        failures.append(f"decode: {e}")
        return failures
    for field in ("author", "federation", "prev"):
        if hdr[field].hex() != ev[field]:
            problems.append(f"{field} in payload {hdr[field].hex()}, vector says {ev[field]}")
    for field in ("seq", "hlc", "body"):
        if hdr[field] != ev[field]:
            problems.append(f"{field} in payload {hdr[field]}, vector says {ev[field]}")
    deps = [{"author": d["author"].hex(), "seq": d["seq"], "id": d["id"].hex()} for d in hdr["deps"]]
    if deps != ev["deps"]:
        problems.append(f"deps in payload {deps}, vector says {ev['deps']}")
    if hdr["version"] != protocol_version:
        failures.append("unsupported_version")
    if hdr["federation"] != fid:
        failures.append("wrong_federation")

    author = hdr["author"]
    message = SIGN_TAG + payload
    sodium = libsodium_verify(author, message, sig)
    why = diagnose(author, message, sig)
    if sodium != cofactorless_strict_accepts(author, message, sig):
        problems.append(f"libsodium says {sodium}, pure-Python cofactorless check differs")
    if sodium and why is not None:
        problems.append(f"libsodium accepts, the pure-Python v2 check says {why}")
    if why is not None:
        failures.append(why)
    if author not in hubs and why not in ("small_order_key", "non_canonical_key"):
        failures.append("unknown_author")

    seq, prev = hdr["seq"], hdr["prev"]
    if seq == 0 or (seq == 1) != (prev == b"") or len(prev) not in (0, 32):
        failures.append("bad_seq_or_prev")
    for d in hdr["deps"]:
        target = next(
            (
                e
                for e in by_name.values()
                if e["expected"] == "valid"
                and e["author"] == d["author"].hex()
                and e["seq"] == d["seq"]
            ),
            None,
        )
        if d["author"] == author:
            failures.append("dep_on_own_feed")
        elif target is None or target["id"] != d["id"].hex():
            problems.append(f"dep ({d['author'].hex()[:8]}, {d['seq']}) is not a valid vector")

    # The chain: the events named in `follows`, then this one.
    last_seq, last_id = 0, None
    for name in ev["follows"]:
        before = by_name.get(name)
        if before is None or before["expected"] != "valid":
            problems.append(f"follows {name}, which is not a valid vector")
            return failures
        b = parse_event(bytes.fromhex(before["payload"]))
        b_id = tag_hash(EVENT_TAG, bytes.fromhex(before["payload"]))
        if b["author"] != author or b["seq"] != last_seq + 1 or (last_id or b"") != b["prev"]:
            problems.append(f"the events in follows do not form {ev['author'][:8]}'s chain")
            return failures
        last_seq, last_id = b["seq"], b_id
    if seq > last_seq + 1:
        failures.append("gap")
    elif seq <= last_seq:
        failures.append("already_known")
    elif seq > 1 and prev != last_id:
        failures.append("broken_chain")
    return failures


def judge(report, what, expected, reason, failures, problems):
    if expected == "valid":
        ok = not failures and reason is None
    else:
        ok = reason is not None and failures == [normalize(reason)]
    ok = ok and not problems
    found = "valid" if not failures else "invalid (" + ", ".join(failures) + ")"
    want = expected + (f" ({reason})" if reason else "")
    detail = f"expected {want}, found {found}" if not ok else found
    if problems:
        detail += "; vector problems: " + "; ".join(problems)
    report.line(ok, what, detail)


def check_speccheck(report, path):
    """The twelve ed25519-speccheck cases: the pure-Python v2 verdict is the expected one,
    libsodium's is the expected v1 verdict."""
    for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
        pk = bytes.fromhex(case["public_key"])
        message = bytes.fromhex(case["message"])
        sig = bytes.fromhex(case["signature"])
        why = diagnose(pk, message, sig)
        problems = []
        sodium = libsodium_verify(pk, message, sig)
        if sodium != case["cofactorless_strict_accepts"]:
            problems.append(f"libsodium says {sodium}")
        if sodium != cofactorless_strict_accepts(pk, message, sig):
            problems.append(f"libsodium says {sodium}, pure-Python cofactorless check differs")
        failures = [] if why is None else [why]
        judge(report, f"speccheck case {case['case']}", case["expected"], case.get("reason"), failures, problems)


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("envelope.json")
    vectors = json.loads(path.read_text(encoding="utf-8"))
    report = Report()

    tags = vectors["domain_tags"]
    tags_ok = (
        bytes.fromhex(tags["event"]) == EVENT_TAG
        and bytes.fromhex(tags["sign"]) == SIGN_TAG
        and bytes.fromhex(tags["charter"]) == CHARTER_TAG
        and vectors["payload_bytes_max"] == PAYLOAD_BYTES_MAX
        and vectors["protocol_version"] == PROTOCOL_VERSION
    )
    report.line(
        tags_ok,
        "domain tags, limit and protocol version",
        "as in the protocol" if tags_ok else "differ",
    )

    charter = check_charter(report, "charter", vectors["charter"])
    other = check_charter(report, "other_charter", vectors["other_charter"])
    if charter is None or other is None:
        print(f"{report.passed} passed, {report.failed + 1} failed")
        return 1
    fid = bytes.fromhex(vectors["charter"]["federation_id"])
    if fid == bytes.fromhex(vectors["other_charter"]["federation_id"]):
        report.line(False, "other_charter", "same FederationId as charter")
    check_keys(report, vectors, charter)
    hubs = {m["key"] for m in charter["members"] if m["role"] == ROLE_HUB}

    by_name = {e["name"]: e for e in vectors["events"]}
    if len(by_name) != len(vectors["events"]):
        report.line(False, "events", "names are not unique")
    for ev in vectors["events"]:
        problems = []
        failures = event_failures(
            ev, fid, charter["protocol_version"], hubs, by_name, problems
        )
        judge(report, f"event {ev['name']}", ev["expected"], ev.get("reason"), failures, problems)

    for sv in vectors["signatures"]:
        problems = []
        pk = bytes.fromhex(sv["public_key"])
        message = bytes.fromhex(sv["message"])
        sig = bytes.fromhex(sv["signature"])
        sodium = libsodium_verify(pk, message, sig)
        why = diagnose(pk, message, sig)
        if sodium != sv["cofactorless_strict_accepts"]:
            problems.append(
                f"libsodium says {sodium}, cofactorless_strict_accepts {sv['cofactorless_strict_accepts']}"
            )
        if sodium != cofactorless_strict_accepts(pk, message, sig):
            problems.append(f"libsodium says {sodium}, pure-Python cofactorless check differs")
        lax = lax_accepts(pk, message, sig)
        if lax != sv["lax_accepts"]:
            problems.append(f"lax_accepts {sv['lax_accepts']}, pure-Python lax check says {lax}")
        failures = [] if why is None else [why]
        judge(report, f"signature {sv['name']}", sv["expected"], sv.get("reason"), failures, problems)

    check_speccheck(report, path.with_name("speccheck.json"))

    print(f"{report.passed} passed, {report.failed} failed")
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
