#!/usr/bin/env python3
"""A maillage read-API client that knows nothing but the node's address: it learns every
service and message through gRPC server reflection (grpcio-reflection), with no .proto file
and no generated stub. Driven by node/tests/python_client.rs.

What it does, against a running `maillage serve`:
- lists the services the node announces (reflection);
- asks the gRPC health service whether maillage.v1.Query serves;
- reads a voucher's status (Query.VoucherStatus) and a batch's counts (Query.BatchStatus);
- checks the status codes: a parcours without a session is UNAUTHENTICATED, an unknown
  serial NOT_FOUND, a malformed serial or date INVALID_ARGUMENT.

Usage:
  reflect.py --address HOST:PORT --serial SERIAL --batch BATCH --person CODE
      prints one JSON object on stdout; progress on stderr; exits 1 on any failure.
"""

import argparse
import json
import sys

import grpc
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

RPC_TIMEOUT_S = 30


def log(message):
    print(message, file=sys.stderr, flush=True)


class Reflected:
    """Calls any unary method by its full name, with message classes built from reflection."""

    def __init__(self, channel):
        self.channel = channel
        self.database = ProtoReflectionDescriptorDatabase(channel)
        self.pool = DescriptorPool(self.database)

    def services(self):
        return sorted(self.database.get_services())

    def call(self, service, method, fields):
        descriptor = self.pool.FindServiceByName(service).FindMethodByName(method)
        request_class = message_factory.GetMessageClass(descriptor.input_type)
        response_class = message_factory.GetMessageClass(descriptor.output_type)
        stub = self.channel.unary_unary(
            f"/{service}/{method}",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        response = stub(request_class(**fields), timeout=RPC_TIMEOUT_S)
        return json_format.MessageToDict(response, preserving_proto_field_name=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--serial", required=True)
    parser.add_argument("--batch", required=True)
    parser.add_argument("--person", required=True)
    args = parser.parse_args()

    failures = []
    channel = grpc.insecure_channel(args.address)
    node = Reflected(channel)

    services = node.services()
    log(f"services: {', '.join(services)}")

    health = node.call("grpc.health.v1.Health", "Check", {"service": "maillage.v1.Query"})
    log(f"health of maillage.v1.Query: {health.get('status')}")

    voucher = node.call("maillage.v1.Query", "VoucherStatus", {"serial": args.serial})
    log(f"voucher {voucher.get('serial')}: {voucher.get('status')}")

    batch = node.call("maillage.v1.Query", "BatchStatus", {"batch_id": args.batch})
    log(f"batch {batch.get('batch_id')}: {batch.get('counts')}")

    codes = {}
    for label, method, fields in [
        ("parcours_without_session", "Parcours", {"person": args.person}),
        ("unknown_serial", "VoucherStatus", {"serial": args.batch + "-999"}),
        ("malformed_serial", "VoucherStatus", {"serial": "--help"}),
        ("malformed_date", "VoucherStatus", {"serial": args.serial, "as_of": "2026-13-45"}),
    ]:
        try:
            node.call("maillage.v1.Query", method, fields)
            codes[label] = {"code": "OK", "details": ""}
            failures.append(f"{label}: answered")
        except grpc.RpcError as error:
            codes[label] = {"code": error.code().name, "details": error.details()}
        log(f"{label}: {codes[label]['code']} ({codes[label]['details']})")

    channel.close()
    report = {
        "ok": not failures,
        "failures": failures,
        "services": services,
        "health": health.get("status"),
        "voucher": voucher,
        "batch": batch,
        "codes": codes,
    }
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
