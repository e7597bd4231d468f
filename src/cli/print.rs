//! Where a command's output goes: the process's stdout and stderr, or a
//! buffer when the command is answered for another process (a command run
//! beside an open cockpit, see `remote`). A closed pipe (`| head`) ends the
//! command quietly, as the shell expects.

use std::cell::RefCell;
use std::io::Write;

thread_local! {
    /// Set while a command's output is captured on this thread.
    static CAPTURE: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// A command's output, kept instead of printed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Captured {
    /// What it printed on stdout.
    pub stdout: Vec<u8>,
    /// What it printed on stderr.
    pub stderr: Vec<u8>,
}

/// Runs `f` with its output kept; returns its result and the output.
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Captured) {
    let outer = CAPTURE.with(|c| c.replace(Some(Captured::default())));
    let r = f();
    let got = CAPTURE.with(|c| c.replace(outer)).unwrap_or_default();
    (r, got)
}

/// Writes to stdout (or the capture).
pub fn out(args: std::fmt::Arguments) {
    let kept = CAPTURE.with(|c| c.borrow_mut().as_mut().map(|k| k.stdout.write_fmt(args).is_ok()));
    if kept.is_none() {
        let mut o = std::io::stdout().lock();
        if let Err(e) = o.write_fmt(args).and_then(|()| o.flush()) {
            closed_pipe(e);
        }
    }
}

/// Writes to stderr (or the capture).
pub fn err(args: std::fmt::Arguments) {
    let kept = CAPTURE.with(|c| c.borrow_mut().as_mut().map(|k| k.stderr.write_fmt(args).is_ok()));
    if kept.is_none() {
        let _ = std::io::stderr().lock().write_fmt(args);
    }
}

/// The reader went away (`cockpit today | head -1`): nothing more can be
/// said, and that is not a failure.
fn closed_pipe(e: std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
}

/// `print!` that a capture can keep.
macro_rules! say {
    ($($t:tt)*) => { $crate::cli::print::out(format_args!($($t)*)) };
}

/// `println!` that a capture can keep.
macro_rules! sayln {
    () => { $crate::cli::print::out(format_args!("\n")) };
    ($($t:tt)*) => {{
        $crate::cli::print::out(format_args!($($t)*));
        $crate::cli::print::out(format_args!("\n"));
    }};
}

/// `eprintln!` that a capture can keep.
macro_rules! warnln {
    ($($t:tt)*) => {{
        $crate::cli::print::err(format_args!($($t)*));
        $crate::cli::print::err(format_args!("\n"));
    }};
}

pub(crate) use {say, sayln, warnln};

#[cfg(test)]
mod tests {
    #[test]
    fn a_capture_keeps_what_a_command_says_and_nests() {
        let ((), got) = super::capture(|| {
            say!("a{}", 1);
            sayln!(" b");
            warnln!("careful");
            let ((), inner) = super::capture(|| sayln!("inner"));
            assert_eq!(inner.stdout, b"inner\n");
        });
        assert_eq!(got.stdout, b"a1 b\n");
        assert_eq!(got.stderr, b"careful\n");
    }
}
