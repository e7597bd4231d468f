//! The `cockpit` binary: parses the command line and hands over to the library.

use clap::Parser;

// sled and JSON parsing allocate small blocks at a high rate; mimalloc
// roughly halves the time glibc's allocator spent on them during sync.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    purge_freed_memory_at_once();
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

extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    #[cfg(test)]
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
}

/// `mi_option_purge_delay` in mimalloc.h (the same in its v2 and v3).
const PURGE_DELAY: std::ffi::c_int = 15;

/// mimalloc keeps the memory freed for a second before it gives it back to
/// the system (its purge delay): the cockpit's load frees and allocates tens
/// of MB across threads within that second, and its peak held both (with the
/// whole book loaded at 100,000 accounts: about 185 MB with the memory given
/// back at once, 200 MB after 10 ms, 210 MB after 100 ms, 220 MB after the
/// second; a 30,000-account demo was written in 8.3-9.2 s with this and no
/// huge pages, 9.9-10.9 s before, on a shared machine).
#[allow(unsafe_code)]
fn purge_freed_memory_at_once() {
    // SAFETY: mimalloc's own setter of an option read at each purge, called
    // before any other thread exists (it is not thread safe).
    unsafe { mi_option_set(PURGE_DELAY, 0) }
}

/// `COCKPIT_LOG` asks for debug (or trace) detail.
fn verbose() -> bool {
    std::env::var("COCKPIT_LOG").is_ok_and(|v| v.contains("debug") || v.contains("trace"))
}

#[cfg(test)]
mod tests {
    /// The option set is the purge delay: the only one whose default is
    /// 1000 (ms) in the mimalloc linked, and it reads 0 once set.
    #[test]
    #[allow(unsafe_code)]
    fn the_option_set_is_mimallocs_purge_delay() {
        // SAFETY: reads of mimalloc's options; no other test touches them.
        let before = unsafe { super::mi_option_get(super::PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(before, 1000, "mimalloc's options moved: see mi_option_purge_delay in mimalloc.h");
        }
        super::purge_freed_memory_at_once();
        // SAFETY: as above.
        assert_eq!(unsafe { super::mi_option_get(super::PURGE_DELAY) }, 0);
    }
}
