//! `maillage`: parses the command line, sets up logging, runs the command.

use clap::Parser;

/// The fold allocates many small, short-lived values; mimalloc halves the time glibc's
/// allocator spent on them (`maillage bench fold`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = maillage::command::Cli::parse();
    maillage::run::init_logging(&cli.global, &cli.command);
    match maillage::run::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::from(1)
        }
    }
}
