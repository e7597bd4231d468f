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
            eprintln!("error: {e}");
            // What lies under the message, as the code names it, for
            // whoever is debugging.
            if verbose() {
                for cause in e.causes() {
                    eprintln!("  caused by: {cause:?}");
                }
            }
            std::process::ExitCode::from(e.exit_code())
        }
    }
}

/// `COCKPIT_LOG` asks for debug (or trace) detail.
fn verbose() -> bool {
    std::env::var("COCKPIT_LOG").is_ok_and(|v| v.contains("debug") || v.contains("trace"))
}
