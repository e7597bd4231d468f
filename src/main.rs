//! The `cockpit` binary: parses the command line and hands over to the library.

use clap::Parser;

// sled and JSON parsing allocate small blocks at a high rate; mimalloc
// roughly halves the time glibc's allocator spent on them during sync.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cockpit::cli::Cli::parse();
    match cockpit::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            std::process::ExitCode::from(e.code)
        }
    }
}
