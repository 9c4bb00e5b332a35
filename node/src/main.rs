//! `maillage`: parses the command line, sets up logging, runs the command.

/// The fold allocates many small, short-lived values; mimalloc halves the time glibc's
/// allocator spent on them (`maillage bench fold`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Known before parsing: clap writes `--help` and its errors while it parses.
    let lang = maillage::lang::detect(std::env::args_os());
    maillage_core::lang::set(lang);
    let cli = maillage::command::parse(lang);
    maillage_core::lang::set(cli.global.lang.into());
    maillage::run::init_logging(&cli.global, &cli.command);
    match maillage::run::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{}", maillage::lang::error_line(&error));
            std::process::ExitCode::from(1)
        }
    }
}
