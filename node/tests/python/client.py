#!/usr/bin/env python3
"""An independent maillage client (protocol v2): talks to a running node over gRPC and verifies
by itself everything it pulls. Driven by node/tests/python_client.rs.

Shares no code with the Rust implementation. It uses only the .proto files (stubs generated
at test time with grpc_tools.protoc), hashlib for ids and the FederationId, and PyNaCl
(libsodium) for Ed25519:

- the handshake: offers protocol v2, checks the version the server chose and the server's
  signature over the transcript (which binds both), signs its own;
- ExchangeFrontier, then Pull (follow = false) of every feed in the frontier from seq 1;
- every event: id recomputed, signature verified against the author key, version (the
  charter's protocol_version), federation,
  author (a member), seq continuity and prev chain, deps naming verified events; per feed,
  the count and the last id equal the frontier's head;
- refusals: a Hello from a key outside the charter, a Pull without a session or with an
  unknown one, a replayed Prove all end in UNAUTHENTICATED; a Hello offering only protocol
  v3 ends in FAILED_PRECONDITION naming both sides' versions;
- Query.Digest (loopback: no session needed).

Usage:
  client.py keygen SEED_FILE
      writes a fresh Ed25519 seed (hex) to SEED_FILE, prints the public key (hex)
  client.py check --stubs DIR --address HOST:PORT --charter charter.pb --seed-file F
                  --server-key HEX [--tamper]
      prints one JSON object on stdout: {"ok", "events", "authors", "digest_hex", ...};
      progress and failures on stderr; exits 1 on any failure. `--tamper` flips one payload
      byte of one received event before verification (a negative control: must fail).
"""

import argparse
import hashlib
import json
import os
import struct
import sys
from pathlib import Path

import grpc
import nacl.exceptions
import nacl.signing

EVENT_TAG = b"maillage/v1/event\0"
SIGN_TAG = b"maillage/v1/sign\0"
PERSONAL_TAG = b"maillage/v2/personal\0"
CHARTER_TAG = b"maillage/v1/charter\0"
HANDSHAKE_TAG = b"maillage/v1/handshake\0"
SESSION_METADATA = "maillage-session"
VERSIONS_METADATA = "maillage-protocol-versions"
# The protocol versions this client implements.
PROTOCOL_VERSION = 2
SUPPORTED_VERSIONS = [PROTOCOL_VERSION]
PAYLOAD_BYTES_MAX = 64 * 1024
RPC_TIMEOUT_S = 30


def log(message):
    print(message, file=sys.stderr, flush=True)


def tag_hash(tag, data):
    return hashlib.sha256(tag + data).digest()


def transcript(
    label, federation, client_key, server_key, client_nonce, server_nonce, offered, chosen
):
    """tag | role | federation | client key | server key | client nonce | server nonce |
    u32 BE count of the versions the client offered | each, u32 BE | chosen version, u32 BE."""
    return (
        HANDSHAKE_TAG
        + label
        + federation
        + client_key
        + server_key
        + client_nonce
        + server_nonce
        + struct.pack(">I", len(offered))
        + b"".join(struct.pack(">I", v) for v in offered)
        + struct.pack(">I", chosen)
    )


def ed25519_valid(key, message, signature):
    """libsodium's strict verdict (crypto_sign_verify_detached)."""
    try:
        nacl.signing.VerifyKey(bytes(key)).verify(bytes(message), bytes(signature))
        return True
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError, TypeError):
        return False


class Failures:
    def __init__(self):
        self.items = []

    def add(self, message):
        if len(self.items) < 50:
            log(f"FAIL {message}")
        self.items.append(message)

    def check(self, condition, message):
        if not condition:
            self.add(message)
        return condition


def expect_refusal(failures, what, call, code=grpc.StatusCode.UNAUTHENTICATED):
    """`call` must raise an RpcError with `code`; returns the error (None on failure)."""
    try:
        call()
    except grpc.RpcError as error:
        if error.code() == code:
            log(f"ok   {what}: refused ({error.details()})")
            return error
        failures.add(f"{what}: expected {code}, got {error.code()} {error.details()}")
        return None
    failures.add(f"{what}: expected {code}, the call succeeded")
    return None


def keygen(seed_file):
    key = nacl.signing.SigningKey.generate()
    Path(seed_file).write_text(bytes(key).hex() + "\n", encoding="ascii")
    print(bytes(key.verify_key).hex())
    return 0


def handshake(fed, stub, signing_key, fid, expected_server, charter_members, failures):
    """Hello + Prove; returns (session bytes, server key, the ProveRequest sent)."""
    my_key = bytes(signing_key.verify_key)
    client_nonce = os.urandom(32)
    hello = stub.Hello(
        fed.HelloRequest(
            federation=fid,
            client_key=my_key,
            client_nonce=client_nonce,
            protocol_versions=SUPPORTED_VERSIONS,
        ),
        timeout=RPC_TIMEOUT_S,
    )
    chosen = hello.protocol_version
    if not failures.check(
        chosen in SUPPORTED_VERSIONS,
        f"the server chose protocol v{chosen}, this client offered {SUPPORTED_VERSIONS}",
    ):
        raise SystemExit(1)
    server_key = hello.server_key
    if not failures.check(len(server_key) == 32, f"server_key has {len(server_key)} bytes"):
        raise SystemExit(1)
    failures.check(
        server_key == expected_server,
        f"reached {server_key.hex()}, expected {expected_server.hex()}",
    )
    failures.check(server_key in charter_members, "the server's key is not in the charter")
    failures.check(len(hello.server_nonce) == 32, "server_nonce is not 32 bytes")
    signed = transcript(
        b"server\0",
        fid,
        my_key,
        server_key,
        client_nonce,
        hello.server_nonce,
        SUPPORTED_VERSIONS,
        chosen,
    )
    if not failures.check(
        ed25519_valid(server_key, signed, hello.server_signature),
        "the server's handshake signature does not verify",
    ):
        raise SystemExit(1)
    log(f"ok   Hello: protocol v{chosen}; the server's signature over the transcript verifies")
    mine = transcript(
        b"client\0",
        fid,
        my_key,
        server_key,
        client_nonce,
        hello.server_nonce,
        SUPPORTED_VERSIONS,
        chosen,
    )
    # The server keeps nothing between the two calls: the Prove echoes the Hello.
    prove = fed.ProveRequest(
        client_key=my_key,
        server_nonce=hello.server_nonce,
        client_signature=signing_key.sign(mine).signature,
        client_nonce=client_nonce,
        protocol_versions=SUPPORTED_VERSIONS,
    )
    session = stub.Prove(prove, timeout=RPC_TIMEOUT_S).session
    failures.check(len(session) == 16, f"session token has {len(session)} bytes")
    log(f"ok   Prove: session opened ({len(session)}-byte token)")
    return session, server_key, prove


def check(args):
    sys.path.insert(0, args.stubs)
    from maillage.v1 import charter_pb2, events_pb2, federation_pb2 as fed
    from maillage.v1 import federation_pb2_grpc, query_pb2, query_pb2_grpc

    failures = Failures()
    charter_bytes = Path(args.charter).read_bytes()
    fid = tag_hash(CHARTER_TAG, charter_bytes)
    charter = charter_pb2.Charter.FromString(charter_bytes)
    members = {m.key: m for m in charter.members}
    failures.check(charter.version == 1, f"charter version {charter.version}")
    failures.check(
        charter.protocol_version in SUPPORTED_VERSIONS,
        f"the charter names protocol v{charter.protocol_version}, this client implements "
        f"{SUPPORTED_VERSIONS}",
    )
    seed = bytes.fromhex(Path(args.seed_file).read_text(encoding="ascii").strip())
    signing_key = nacl.signing.SigningKey(seed)
    my_key = bytes(signing_key.verify_key)
    me = members.get(my_key)
    failures.check(
        me is not None and me.role == charter_pb2.ROLE_OBSERVER and not me.territories,
        "this client is not an observer of the charter",
    )
    expected_server = bytes.fromhex(args.server_key)
    server_member = members.get(expected_server)
    failures.check(
        server_member is not None and server_member.role == charter_pb2.ROLE_HUB,
        "the expected server is not a hub of the charter",
    )

    # No proxy: the node listens on loopback.
    channel = grpc.insecure_channel(
        args.address,
        options=[
            ("grpc.enable_http_proxy", 0),
            ("grpc.max_receive_message_length", 64 << 20),
        ],
    )
    grpc.channel_ready_future(channel).result(timeout=RPC_TIMEOUT_S)
    stub = federation_pb2_grpc.FederationStub(channel)

    # Refusals first: nobody gets in without a member key and a session.
    stranger = nacl.signing.SigningKey.generate()
    expect_refusal(
        failures,
        "Hello from a key outside the charter",
        lambda: stub.Hello(
            fed.HelloRequest(
                federation=fid,
                client_key=bytes(stranger.verify_key),
                client_nonce=os.urandom(32),
            ),
            timeout=RPC_TIMEOUT_S,
        ),
    )
    later = expect_refusal(
        failures,
        "Hello offering only protocol v3",
        lambda: stub.Hello(
            fed.HelloRequest(
                federation=fid,
                client_key=my_key,
                client_nonce=os.urandom(32),
                protocol_versions=[3],
            ),
            timeout=RPC_TIMEOUT_S,
        ),
        code=grpc.StatusCode.FAILED_PRECONDITION,
    )
    if later is not None:
        failures.check(
            "incompatible protocol (peer: v3, this node: v2)" in later.details(),
            f"the refusal does not name both versions: {later.details()}",
        )
        trailer = dict(later.trailing_metadata() or ())
        failures.check(
            trailer.get(VERSIONS_METADATA) == "2",
            f"the refusal's {VERSIONS_METADATA} trailer: {trailer.get(VERSIONS_METADATA)!r}",
        )
    everything = fed.PullRequest(
        ranges=[fed.PullRange(author=expected_server, after_seq=0)], follow=False
    )
    expect_refusal(
        failures,
        "Pull without a session",
        lambda: list(stub.Pull(everything, timeout=RPC_TIMEOUT_S)),
    )
    expect_refusal(
        failures,
        "Pull with an unknown session",
        lambda: list(
            stub.Pull(
                everything,
                timeout=RPC_TIMEOUT_S,
                metadata=[(SESSION_METADATA, os.urandom(16).hex())],
            )
        ),
    )

    # The handshake.
    session, server_key, prove = handshake(
        fed, stub, signing_key, fid, expected_server, members, failures
    )
    expect_refusal(
        failures,
        "the same Prove replayed",
        lambda: stub.Prove(prove, timeout=RPC_TIMEOUT_S),
    )
    metadata = [(SESSION_METADATA, session.hex())]

    # What the server holds, then all of it.
    frontier = stub.ExchangeFrontier(fed.Frontier(), metadata=metadata, timeout=RPC_TIMEOUT_S)
    heads = {}
    for head in frontier.heads:
        failures.check(head.author in members, f"frontier names a non-member {head.author.hex()}")
        failures.check(head.author not in heads, f"frontier names {head.author.hex()} twice")
        failures.check(head.seq >= 1 and len(head.id) == 32, "a malformed frontier head")
        heads[head.author] = head
    failures.check(not frontier.forks, f"{len(frontier.forks)} fork proof(s) in the frontier")
    log(f"ok   ExchangeFrontier: {len(heads)} feed(s), {sum(h.seq for h in heads.values())} event(s)")

    request = fed.PullRequest(
        ranges=[fed.PullRange(author=a, after_seq=0) for a in sorted(heads)], follow=False
    )
    feeds = {a: {"seq": 0, "id": None} for a in heads}
    known = {}  # (author, seq) -> id, for deps
    deps_seen = []
    bodies = {}
    parts = without_parts = 0
    received = 0
    verified = 0
    batches = 0
    last_caught_up = False
    for batch in stub.Pull(request, metadata=metadata, timeout=RPC_TIMEOUT_S):
        batches += 1
        last_caught_up = batch.caught_up
        for signed in batch.events:
            received += 1
            payload = bytes(signed.payload)
            if args.tamper and received == 2:
                position = len(payload) // 2
                payload = payload[:position] + bytes([payload[position] ^ 0x01]) + payload[position + 1 :]
                log(f"--tamper: flipped payload byte {position} of received event #{received}")
            where = f"event #{received}"
            ok = failures.check(
                len(payload) <= PAYLOAD_BYTES_MAX and len(signed.signature) == 64,
                f"{where}: payload {len(payload)} bytes, signature {len(signed.signature)} bytes",
            )
            event_id = tag_hash(EVENT_TAG, payload)
            try:
                event = events_pb2.Event.FromString(payload)
            except Exception as error:  # noqa: BLE001 - any decode error is a failure
                failures.add(f"{where}: payload does not decode: {error}")
                continue
            where = f"event #{received} ({event.author.hex()[:8]}, seq {event.seq})"
            ok &= failures.check(
                event.version == charter.protocol_version,
                f"{where}: version {event.version}, the charter names {charter.protocol_version}",
            )
            ok &= failures.check(event.federation == fid, f"{where}: another federation")
            ok &= failures.check(event.author in feeds, f"{where}: author not pulled")
            ok &= failures.check(
                ed25519_valid(event.author, SIGN_TAG + payload, signed.signature),
                f"{where}: bad signature (Ed25519, PyNaCl)",
            )
            feed = feeds.get(event.author)
            if feed is not None:
                ok &= failures.check(
                    event.seq == feed["seq"] + 1,
                    f"{where}: seq follows {feed['seq']}",
                )
                expected_prev = b"" if event.seq == 1 else (feed["id"] or b"")
                ok &= failures.check(
                    bytes(event.prev) == expected_prev,
                    f"{where}: prev {event.prev.hex()[:16]} is not the id of seq {event.seq - 1}",
                )
                feed["seq"], feed["id"] = event.seq, event_id
            kind = event.WhichOneof("body")
            ok &= failures.check(kind is not None, f"{where}: no body")
            # A personal part beside the event (docs/protocol.md §2b): never signed; when
            # present, its tagged hash is the commitment the payload holds.
            committed = getattr(getattr(event, kind), "personal", b"") if kind else b""
            if signed.personal:
                ok &= failures.check(
                    len(committed) == 32 and tag_hash(PERSONAL_TAG, bytes(signed.personal)) == committed,
                    f"{where}: the personal part does not match the payload's commitment",
                )
                parts += 1
            elif committed:
                without_parts += 1
            bodies[kind] = bodies.get(kind, 0) + 1
            known[(event.author, event.seq)] = event_id
            deps_seen.extend((where, d.author, d.seq, d.id) for d in event.deps)
            verified += 1 if ok else 0
    failures.check(batches > 0 and last_caught_up, "the pull did not end with caught_up")
    for where, author, seq, dep_id in deps_seen:
        failures.check(known.get((author, seq)) == dep_id, f"{where}: dep ({author.hex()[:8]}, {seq}) unverified")
    for author, head in heads.items():
        feed = feeds[author]
        failures.check(
            feed["seq"] == head.seq and feed["id"] == head.id,
            f"feed {author.hex()[:8]}: pulled up to seq {feed['seq']}, frontier says {head.seq}",
        )
    log(f"{'ok  ' if verified == received else 'FAIL'} Pull: {received} event(s) in {batches} batch(es), {verified} verified")

    query = query_pb2_grpc.QueryStub(channel)
    digest = query.Digest(query_pb2.DigestRequest(), timeout=RPC_TIMEOUT_S)
    failures.check(len(digest.digest) == 32, f"digest has {len(digest.digest)} bytes")
    applied = {p.author: p.seq for p in digest.applied}
    failures.check(
        applied == {a: h.seq for a, h in heads.items()},
        "the digest does not cover exactly the pulled feeds",
    )
    log(f"ok   Query.Digest: {digest.digest.hex()}")
    channel.close()

    report = {
        "ok": not failures.items,
        "failures": failures.items,
        "federation_id": fid.hex(),
        "server_key": server_key.hex(),
        "client_key": my_key.hex(),
        "events": verified,
        "received": received,
        "authors": {a.hex(): f["seq"] for a, f in feeds.items()},
        "bodies": bodies,
        "personal_parts": parts,
        "committed_without_part": without_parts,
        "digest_hex": digest.digest.hex(),
        "events_applied": digest.events_applied,
        "events_pending": digest.events_pending,
    }
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0 if report["ok"] else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("keygen")
    gen.add_argument("seed_file")
    run = sub.add_parser("check")
    run.add_argument("--stubs", required=True)
    run.add_argument("--address", required=True)
    run.add_argument("--charter", required=True)
    run.add_argument("--seed-file", required=True)
    run.add_argument("--server-key", required=True)
    run.add_argument("--tamper", action="store_true")
    args = parser.parse_args()
    if args.command == "keygen":
        return keygen(args.seed_file)
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
