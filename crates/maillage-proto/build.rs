//! Compiles `proto/` with protox (a pure-Rust protobuf compiler): no system `protoc`.
//! Messages by prost, gRPC services (client and server) by tonic.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "maillage/v1/events.proto",
        "maillage/v1/charter.proto",
        "maillage/v1/federation.proto",
        "maillage/v1/query.proto",
        "maillage/v1/admin.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={}", root.join(file).display());
    }
    let descriptors = protox::compile(files, [&root])?;
    // The descriptors themselves, for gRPC server reflection.
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("maillage_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
