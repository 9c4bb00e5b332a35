//! `maillage`: parses the command line, sets up logging, runs the command.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = maillage::cli::Cli::parse();
    maillage::cli::init_logging(&cli.global);
    match maillage::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::from(1)
        }
    }
}
